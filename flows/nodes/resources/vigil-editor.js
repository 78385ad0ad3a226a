/*
 * Vigil's Node-RED nodes, editor side: what every node's definition shares — the palette
 * category, colour and icon, the `hub` and `name` properties, the italic label of a named
 * node, the slug check of camera / display / layout ids. Each <name>.html loads this file
 * (Node-RED serves a package's resources/ folder at resources/<package>/) before its
 * RED.nodes.registerType(type, VigilEditor.node({…})).
 */
(function () {
    'use strict';
    if (window.VigilEditor) { return; }
    var SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;
    window.VigilEditor = {
        /** A definition for RED.nodes.registerType: the shared parts, then `def` (its `defaults` join name and hub). */
        node: function (def) {
            var defaults = $.extend({ name: { value: '' }, hub: { type: 'vigil-hub', required: true } }, def.defaults || {});
            return $.extend({
                category: 'vigil',
                color: '#8cc0e0',
                icon: 'vigil.svg',
                inputs: 1,
                outputs: 1,
                labelStyle: function () { return this.name ? 'node_label_italic' : ''; }
            }, def, { defaults: defaults });
        },
        /** Validator: empty, or a lower-case slug (camera, display and layout ids). */
        slugOrEmpty: function (v) {
            return !v || SLUG.test(v) || 'a lower-case slug: a-z, 0-9, _ and -';
        }
    };
})();
