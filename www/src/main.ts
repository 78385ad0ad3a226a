/** Entry point of the web UI (loaded by index.html): defines `<vigil-app>` and its pages. */
import './app.ts';
