/**
 * A small ONNX graph builder over onnx-proto: enough to write the feature graph (and the
 * tiny models the tests generate) as plain TypeScript instead of shipping opaque .onnx
 * files. Values are referred to by name; every node gets a fresh, readable output name.
 */
import onnxProto from 'onnx-proto';
import type { onnx as proto } from 'onnx-proto';

// onnx-proto is CommonJS (`module.exports = { onnx }`); under NodeNext its default import is that object.
const { onnx } = onnxProto;

export type ElementType = 'uint8' | 'bool' | 'int64' | 'float32' | 'float64';

/** A dimension: a fixed size, or a symbolic name such as 'batch' for a size chosen at run time. */
export type Dim = number | string;

/** Attribute values: an integer, a list of integers, a float (`{ float }`) or a string. */
export type AttributeValue = number | readonly number[] | { readonly float: number } | string;

const DATA_TYPE: Record<ElementType, number> = {
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
  int64: onnx.TensorProto.DataType.INT64,
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
};

/** ONNX IR version 8 (ONNX 1.10): the newest one onnx-proto 8.x encodes, read by every current runtime. */
const IR_VERSION = 8;

export function dataTypeOf(type: ElementType): number {
  return DATA_TYPE[type];
}

function valueInfo(name: string, type: ElementType, shape: readonly Dim[]): proto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): proto.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer (use { float })`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.INTS, ints: [...value] };
}

function tensor(
  name: string,
  type: ElementType,
  dims: readonly number[],
  values: ArrayLike<number>,
): proto.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new Error(`constant ${name}: ${values.length} values for shape [${dims.join(', ')}] (${count} expected)`);
  }
  const list = Array.from(values);
  const t: proto.ITensorProto = { name, dims: [...dims], dataType: DATA_TYPE[type] };
  // The typed repeated fields keep the encoding independent of host byte order (raw_data is little-endian).
  switch (type) {
    case 'float32':
      t.floatData = list;
      break;
    case 'float64':
      t.doubleData = list;
      break;
    case 'int64':
      t.int64Data = list;
      break;
    case 'uint8':
    case 'bool':
      t.int32Data = list; // the ONNX spec stores these small types in int32_data
      break;
  }
  return t;
}

export class GraphBuilder {
  private readonly nodes: proto.INodeProto[] = [];
  private readonly initializers: proto.ITensorProto[] = [];
  private readonly inputs: proto.IValueInfoProto[] = [];
  private readonly outputs: proto.IValueInfoProto[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly graphName: string) {}

  private fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.used.has(name); i++) name = `${hint}_${i}`;
    this.used.add(name);
    return name;
  }

  input(name: string, type: ElementType, shape: readonly Dim[]): string {
    if (this.used.has(name)) throw new Error(`graph ${this.graphName}: name ${name} is already used`);
    this.used.add(name);
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** Declares an existing value (usually a node output) as a graph output under its own name. */
  output(value: string, type: ElementType, shape: readonly Dim[]): void {
    this.outputs.push(valueInfo(value, type, shape));
  }

  constant(hint: string, type: ElementType, dims: readonly number[], values: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.initializers.push(tensor(name, type, dims, values));
    return name;
  }

  /**
   * Adds one node and returns its (single) output name. `output` names it exactly, which is
   * how graph outputs get their public names; otherwise the name derives from the op type.
   */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    let out: string;
    if (output !== undefined) {
      if (this.used.has(output)) throw new Error(`graph ${this.graphName}: name ${output} is already used`);
      this.used.add(output);
      out = output;
    } else {
      out = this.fresh(opType.toLowerCase());
    }
    this.nodes.push({
      opType,
      name: out,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** Serializes the model with the default-domain opset `opset`. */
  toBytes(opset: number): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'streamqc',
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
