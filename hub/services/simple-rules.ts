/**
 * Simple rules (`/api/rules`): the seed's `event_rules` — when an event matches (camera,
 * topic, property_op), activate a layout on a display, revert after some seconds, keep a
 * cooldown — for users who never open a flow editor. There is one engine: the rules are
 * compiled ({@link compileRulesFlow}) into a Node-RED tab the hub owns
 * ({@link RULES_TAB_ID}), a `vigil trigger` node wired to a `vigil layout` node per rule,
 * and deployed through the runtime API on every change and at every start. Edits made to
 * that tab in the editor are replaced at the next sync; its info text says so.
 */
import type { Logger } from 'pino';
import { simpleRule, type SimpleRule } from '../../components/protocol/rules.ts';
import type { RulesRepo } from '../store/rules-repo.ts';
import type { OwnedFlow, RulesEngine } from '../rules/node-red.ts';
import { Conflict, NotFound, parseWith } from '../errors.ts';

/** Id of the Node-RED tab holding the compiled simple rules. */
export const RULES_TAB_ID = 'vigil.simple-rules';
/** Id of the tab's `vigil-hub` config node (embedded mode: the hub's own bus). */
const HUB_NODE_ID = 'vigil.simple-rules.hub';

/**
 * The tab for `rules`: per rule a `vigil trigger` node (the rule's `when`) wired to a
 * `vigil layout` node (its `do`), laid out one rule per row; disabled rules are disabled
 * nodes (`d: true`). Node ids are `vigil.rule.<id>.when` / `.do`, so a rule keeps its
 * nodes (and their cooldown and revert state) across syncs that do not change it. No
 * rules: no nodes (the tab is removed).
 */
export function compileRulesFlow(rules: SimpleRule[]): OwnedFlow {
  const nodes: OwnedFlow['nodes'] = rules.length ? [{ id: HUB_NODE_ID, type: 'vigil-hub', name: 'Vigil (this hub)', mode: 'embedded' }] : [];
  rules.forEach((r, i) => {
    const y = 60 + i * 80;
    const when = `vigil.rule.${r.id}.when`;
    const act = `vigil.rule.${r.id}.do`;
    nodes.push({
      id: when, type: 'vigil trigger', name: r.name, hub: HUB_NODE_ID, d: !r.enabled,
      camera: r.when.camera ?? '', topic: r.when.topic, propertyOp: r.when.property_op ?? '', data: r.when.data ? JSON.stringify(r.when.data) : '',
      x: 160, y, wires: [[act]],
    });
    nodes.push({
      id: act, type: 'vigil layout', name: `${r.do.display} → ${r.do.layout_id}`, hub: HUB_NODE_ID, d: !r.enabled,
      display: r.do.display, layout: r.do.layout_id, revertAfter: r.do.revert_after_seconds ?? 0, revertTo: r.do.revert_to, cooldown: r.do.cooldown_seconds,
      x: 460, y, wires: [[]],
    });
  });
  return {
    id: RULES_TAB_ID,
    label: 'Simple rules',
    info: 'Written by Vigil from /api/rules (the web UI\'s Rules page). Edits made here are replaced at the next change of a rule: copy the nodes to your own tab to build on them.',
    nodes,
  };
}

/** What the rules need from the rest of the hub. */
export interface SimpleRulesDeps {
  repo: RulesRepo;
  /** Checks a rule's display and layout exist. @throws InvalidInput naming the field */
  checkTarget: (display: string, layout: string, revertTo: string) => Promise<void>;
  /** The running rules engine, if any. */
  engine: () => RulesEngine | undefined;
  logger: Logger;
}

export class SimpleRules {
  private syncError?: string;
  private syncedAt?: number;

  constructor(private readonly d: SimpleRulesDeps) {}

  async list(): Promise<SimpleRule[]> { return this.d.repo.list(); }

  /** @throws NotFound */
  async get(id: string): Promise<SimpleRule> {
    const r = await this.d.repo.get(id);
    if (!r) throw new NotFound(`no rule ${id}`);
    return r;
  }

  /**
   * Creates (`replace` unset) or replaces a rule, then syncs the engine.
   * @throws InvalidInput (field named; unknown display or layout too), Conflict (id taken), NotFound (replace of an unknown id)
   */
  async save(body: unknown, replace?: string): Promise<SimpleRule> {
    const input = replace && body && typeof body === 'object' && !Array.isArray(body) ? { ...body, id: replace } : body;
    const rule = parseWith(simpleRule, input);
    await this.d.checkTarget(rule.do.display, rule.do.layout_id, rule.do.revert_to);
    const exists = (await this.d.repo.get(rule.id)) !== undefined;
    if (!replace && exists) throw new Conflict(`rule ${rule.id} exists`, 'id');
    if (replace && !exists) throw new NotFound(`no rule ${replace}`);
    await this.d.repo.save(rule);
    await this.sync();
    return rule;
  }

  /** @throws NotFound */
  async delete(id: string): Promise<void> {
    if (!(await this.d.repo.delete(id))) throw new NotFound(`no rule ${id}`);
    await this.sync();
  }

  /**
   * Deploys the compiled tab when the engine runs; a failure (engine stopped, Vigil's nodes
   * missing) is logged and reported by {@link status}, never thrown: the rules stay stored
   * and are deployed at the next start or change.
   */
  async sync(): Promise<void> {
    const engine = this.d.engine();
    if (!engine || engine.state !== 'running') {
      this.syncError = 'the rules engine is not running (rules.enabled?)';
      return;
    }
    try {
      await engine.setOwnedFlow(compileRulesFlow(await this.d.repo.list()));
      this.syncError = undefined;
      this.syncedAt = Date.now();
    } catch (err) {
      this.syncError = (err as Error).message;
      this.d.logger.error({ err: this.syncError }, 'simple rules: could not deploy them to Node-RED');
    }
  }

  /** `{deployed, synced_at?, error?}` for `/api/rules/status` and `/api/system`. */
  status(): { deployed: boolean; synced_at?: number; error?: string } {
    return { deployed: !this.syncError && this.syncedAt !== undefined, synced_at: this.syncedAt, error: this.syncError };
  }
}
