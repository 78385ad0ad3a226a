/** The simple rules' rows: one per rule, the body validated with `components/protocol/rules.ts` on the way in and out. */
import { EntitySchema, type DataSource } from 'typeorm';
import { simpleRule, type SimpleRule } from '../../components/protocol/rules.ts';

interface RuleRow { id: string; body: string; created_at: number; updated_at: number }

export const RuleEntity = new EntitySchema<RuleRow>({
  name: 'Rule', tableName: 'rules',
  columns: { id: { type: 'text', primary: true }, body: { type: 'text' }, created_at: { type: 'bigint' }, updated_at: { type: 'bigint' } },
});

export class RulesRepo {
  constructor(private readonly ds: DataSource) {}
  private get repo() { return this.ds.getRepository(RuleEntity); }

  /** Every rule, by id. */
  async list(): Promise<SimpleRule[]> {
    return (await this.repo.find({ order: { id: 'ASC' } })).map((r) => simpleRule.parse(JSON.parse(r.body)));
  }

  /** One rule, or undefined. */
  async get(id: string): Promise<SimpleRule | undefined> {
    const r = await this.repo.findOneBy({ id });
    return r ? simpleRule.parse(JSON.parse(r.body)) : undefined;
  }

  /** Inserts or replaces a rule. @returns true when it is new */
  async save(rule: SimpleRule): Promise<boolean> {
    const old = await this.repo.findOneBy({ id: rule.id });
    const now = Date.now();
    await this.repo.save({ id: rule.id, body: JSON.stringify(rule), created_at: old?.created_at ?? now, updated_at: now });
    return !old;
  }

  /** @returns false when unknown */
  async delete(id: string): Promise<boolean> {
    return ((await this.repo.delete({ id })).affected ?? 0) > 0;
  }
}
