/**
 * A small builder for ONNX models on top of `onnx-proto` (ONNX's `onnx.proto` compiled
 * with protobuf.js): collects nodes, initializers, inputs and outputs, then encodes one
 * `ModelProto`. Only what the CenterNet converter needs: float/int64 initializers stored as
 * little-endian `raw_data`, int/float/string/int-list attributes.
 *
 * Spec: https://github.com/onnx/onnx/blob/main/docs/IR.md (operators:
 * https://github.com/onnx/onnx/blob/main/docs/Operators.md).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Attribute value: an integer (`{ i }`), float (`{ f }`), string (`{ s }`) or list of integers (`{ ints }`). */
export type OnnxAttr = { i: number } | { f: number } | { s: string } | { ints: number[] };

/** A tensor dimension: a fixed size, or a symbolic name (`dim_param`) for a dynamic one. */
export type OnnxDim = number | string;

/** ONNX `TensorProto.DataType` values used here. */
export const OnnxType = { FLOAT: 1, INT64: 7 } as const;

/** Builds one ONNX graph and encodes it as a model. */
export class OnnxGraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly initializerNames = new Set<string>();
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];

  /** @param name graph name (stored in the model). */
  constructor(private readonly name: string) {}

  /** True if an initializer of that name exists. */
  hasInitializer(name: string): boolean {
    return this.initializerNames.has(name);
  }

  /**
   * Adds a float32 initializer (constant tensor).
   * @throws Error if `data.length` does not match `dims`, or the name is taken.
   */
  floatInitializer(name: string, dims: number[], data: ArrayLike<number>): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
    const raw = new Uint8Array(count * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, data[i]!, true);
    return this.addInitializer(name, OnnxType.FLOAT, dims, raw);
  }

  /**
   * Adds an int64 initializer.
   * @throws Error if `data.length` does not match `dims`, or the name is taken.
   */
  int64Initializer(name: string, dims: number[], data: ArrayLike<number>): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
    const raw = new Uint8Array(count * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) view.setBigInt64(i * 8, BigInt(data[i]!), true);
    return this.addInitializer(name, OnnxType.INT64, dims, raw);
  }

  private addInitializer(name: string, dataType: number, dims: number[], rawData: Uint8Array): string {
    if (this.initializerNames.has(name)) throw new Error(`duplicate initializer ${name}`);
    this.initializerNames.add(name);
    this.initializers.push(onnx.TensorProto.create({ name, dataType, dims, rawData }));
    return name;
  }

  /**
   * Adds a node. Inputs may be `''` for an omitted optional input.
   * @returns the node's outputs (same as `outputs`).
   */
  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, OnnxAttr> = {}, name = outputs[0] ?? opType): string[] {
    const attribute = Object.entries(attrs).map(([attrName, v]) => {
      const A = onnx.AttributeProto.AttributeType;
      if ('i' in v) return onnx.AttributeProto.create({ name: attrName, type: A.INT, i: v.i });
      if ('f' in v) return onnx.AttributeProto.create({ name: attrName, type: A.FLOAT, f: v.f });
      if ('s' in v) return onnx.AttributeProto.create({ name: attrName, type: A.STRING, s: new TextEncoder().encode(v.s) });
      return onnx.AttributeProto.create({ name: attrName, type: A.INTS, ints: v.ints });
    });
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: outputs, name, attribute }));
    return outputs;
  }

  /** Declares a graph input of element type `elemType` ({@link OnnxType}). */
  input(name: string, elemType: number, dims: OnnxDim[]): void {
    this.inputs.push(valueInfo(name, elemType, dims));
  }

  /** Declares a graph output. */
  output(name: string, elemType: number, dims: OnnxDim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /**
   * Encodes the model: ONNX IR version 7, default-domain opset `opset`.
   * @param meta `metadata_props` key/values (kept in insertion order).
   * @returns the `.onnx` file's bytes.
   */
  encode(opts: { opset: number; producerName: string; producerVersion: string; docString?: string; meta?: Record<string, string> }): Uint8Array {
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: opts.opset })],
      producerName: opts.producerName,
      producerVersion: opts.producerVersion,
      docString: opts.docString ?? '',
      graph,
      metadataProps: Object.entries(opts.meta ?? {}).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, elemType: number, dims: OnnxDim[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}
