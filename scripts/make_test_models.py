"""Small ONNX models for cxr-model's tests and demo, and onnxruntime's outputs on fixed inputs.

    python scripts/make_test_models.py crates/cxr-model/tests/data       # needs: onnx, onnxruntime, numpy
    python scripts/make_test_models.py OUT --densenet121                 # + the full DenseNet-121 (bench only)

Weights are random (seeded) or set by hand; no model is trained and none is diagnostic. The DenseNet graphs
use exactly the operators torch.onnx.export emits for torchxrayvision's DenseNet-121 (Conv, BatchNormalization,
Relu, MaxPool with pads, AveragePool, Concat, GlobalAveragePool, Flatten, Gemm, Sigmoid), built with the onnx
helper so that no torch is needed.
"""
import json, os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(20261128)


class G:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def init(self, p, a):
        n = self.name(p)
        self.inits.append(numpy_helper.from_array(np.asarray(a, dtype=np.float32), n))
        return n

    def node(self, op, ins, **attrs):
        o = self.name(op.lower())
        self.nodes.append(helper.make_node(op, ins, [o], **attrs))
        return o

    def conv(self, x, cin, cout, k, stride=1, pad=0, group=1, dilation=1, bias=False):
        w = self.init("w", rng.normal(0, np.sqrt(2.0 / (cin // group * k * k)), (cout, cin // group, k, k)))
        ins = [x, w] + ([self.init("b", rng.normal(0, 0.1, cout))] if bias else [])
        return self.node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group,
                         dilations=[dilation, dilation])

    def bn(self, x, c):
        p = [self.init("s", rng.uniform(0.5, 1.5, c)), self.init("bb", rng.normal(0, 0.1, c)),
             self.init("m", rng.normal(0, 0.1, c)), self.init("v", rng.uniform(0.5, 1.5, c))]
        return self.node("BatchNormalization", [x] + p, epsilon=1e-5)

    def relu(self, x):
        return self.node("Relu", [x])

    def save(self, path, inputs, outputs, graph_name):
        g = helper.make_graph(self.nodes, graph_name, inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="cxrkit make_test_models.py")
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, path)


def densenet(path, size, growth, blocks, init_features, n_out=18):
    g = G()
    x = g.relu(g.bn(g.conv("image", 1, init_features, 7, stride=2, pad=3), init_features))
    x = g.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = init_features
    for bi, layers in enumerate(blocks):
        for _ in range(layers):
            y = g.conv(g.relu(g.bn(x, c)), c, 4 * growth, 1)
            y = g.conv(g.relu(g.bn(y, 4 * growth)), 4 * growth, growth, 3, pad=1)
            x = g.node("Concat", [x, y], axis=1)
            c += growth
        if bi < len(blocks) - 1:
            x = g.conv(g.relu(g.bn(x, c)), c, c // 2, 1)
            x = g.node("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
            c //= 2
    feats = g.relu(g.bn(x, c))
    pooled = g.node("Flatten", [g.node("GlobalAveragePool", [feats])], axis=1)
    w = g.init("fc_w", rng.normal(0, 0.05, (n_out, c)))
    b = g.init("fc_b", rng.normal(0, 0.05, n_out))
    logits = g.node("Gemm", [pooled, w, b], alpha=1.0, beta=1.0, transB=1)
    probs = g.node("Sigmoid", [logits])
    g.nodes[-1].output[0] = "probs"
    for n in g.nodes:  # name the logits output
        if n.output[0] == logits:
            n.output[0] = "logits"
    g.nodes[-1].input[0] = "logits"
    g.save(path, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 1, size, size])],
           [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, n_out]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, n_out])], "densenet")


def misc(path):
    """The other operators the runtime supports, in one small graph."""
    g = G()
    x = g.node("Transpose", ["image"], perm=[0, 1, 3, 2])
    x = g.conv(x, 1, 4, 3, pad=2, dilation=2, bias=True)
    x = g.node("LeakyRelu", [x], alpha=0.1)
    x = g.conv(x, 4, 4, 3, pad=1, group=2, stride=2, bias=True)
    x = g.node("Clip", [x, g.init("lo", -1.0), g.init("hi", 2.0)])
    x = g.node("AveragePool", [x], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0)
    x = g.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    shape = g.node("Shape", [x])
    batch = g.node("Gather", [shape, g.init_i64("idx0", 0)], axis=0)
    flat_shape = g.node("Concat", [g.node("Unsqueeze", [batch, g.init_i64("ax0", [0])]), g.init_i64("m1", [-1])], axis=0)
    x = g.node("Reshape", [x, flat_shape])
    w = g.init("mm_w", rng.normal(0, 0.2, (64, 5)))
    x = g.node("Add", [g.node("MatMul", [x, w]), g.init("mm_b", rng.normal(0, 0.1, 5))])
    x = g.node("Mul", [g.node("Sub", [x, g.init("c1", 0.5)]), g.init("c2", [1.0, 2.0, 0.5, -1.0, 1.5])])
    x = g.node("Div", [x, g.init("c3", 2.0)])
    g.nodes.append(helper.make_node("Softmax", [x], ["probs"], axis=1))
    g.save(path, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 1, 16, 16])],
           [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, 5])], "misc")


def init_i64(self, p, a):
    n = self.name(p)
    self.inits.append(numpy_helper.from_array(np.asarray(a, dtype=np.int64), n))
    return n


G.init_i64 = init_i64


def region(path, size, box, name):
    """score = sigmoid(mean of the input over `box` × 4 − 2): only that region matters (heatmap tests, demo)."""
    g = G()
    y0, y1, x0, x1 = box
    w = np.zeros((1, size * size), dtype=np.float32)
    mask = np.zeros((size, size), dtype=np.float32)
    mask[y0:y1, x0:x1] = 1.0
    w[0] = mask.ravel() * 4.0 / mask.sum()
    flat = g.node("Flatten", ["image"], axis=1)
    logit = g.node("Gemm", [flat, g.init("w", w), g.init("b", [-2.0])], transB=1)
    g.nodes.append(helper.make_node("Sigmoid", [logit], ["probs"]))
    g.save(path, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 1, size, size])],
           [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, 1])], name)


def demo(path, size):
    """The `cxr demo` model: a smooth weighting of the central chest, so its occlusion map is a visible blob.
    Not trained, not diagnostic: score = sigmoid(8 · (weighted mean brightness − 0.5)) on [0, 1] input."""
    g = G()
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    blob = np.exp(-(((yy - 0.55) / 0.2) ** 2 + ((xx - 0.5) / 0.25) ** 2) / 2)
    w = (blob / blob.sum() * 8.0).reshape(1, -1)
    flat = g.node("Flatten", ["image"], axis=1)
    logit = g.node("Gemm", [flat, g.init("w", w), g.init("b", [-4.0])], transB=1)
    g.nodes.append(helper.make_node("Sigmoid", [logit], ["probs"]))
    g.save(path, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 1, size, size])],
           [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, 1])], "demo")


def demo_findings(path, size):
    """The `cxr serve` demo model: five CheXpert findings, each a Gaussian weighting of the region where that
    finding shows on a PA film (image left = patient right). Not trained, not diagnostic:
    p_k = sigmoid(8 · (weighted mean brightness_k − 0.5)) on [0, 1] input."""
    g = G()
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)

    def blob(cy, cx, sy, sx):
        return np.exp(-(((yy - cy) / sy) ** 2 + ((xx - cx) / sx) ** 2) / 2)

    regions = [blob(0.62, 0.56, 0.12, 0.16),                                   # Cardiomegaly: the heart
               blob(0.45, 0.35, 0.08, 0.07) + blob(0.45, 0.65, 0.08, 0.07),   # Edema: perihilar
               blob(0.70, 0.28, 0.10, 0.08),                                   # Consolidation: right lower zone
               blob(0.72, 0.72, 0.08, 0.08),                                   # Atelectasis: left base
               blob(0.86, 0.18, 0.06, 0.06) + blob(0.86, 0.82, 0.06, 0.06)]   # Pleural Effusion: the angles
    w = np.stack([r.ravel() / r.sum() * 8.0 for r in regions])
    flat = g.node("Flatten", ["image"], axis=1)
    logit = g.node("Gemm", [flat, g.init("w", w), g.init("b", [-4.0] * len(regions))], transB=1)
    g.nodes.append(helper.make_node("Sigmoid", [logit], ["probs"]))
    g.save(path, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 1, size, size])],
           [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [None, len(regions)])], "demo_findings")


def tiny_unet(path, size):
    """A two-level U-Net with the operators torch exports for segmenters: ConvTranspose (stride 2), Resize
    (nearest and bilinear), a skip Concat; 2 output channels through a Sigmoid (masks); random weights."""
    g = G()
    e1 = g.relu(g.conv("image", 1, 4, 3, pad=1, bias=True))
    d1 = g.node("MaxPool", [e1], kernel_shape=[2, 2], strides=[2, 2])
    e2 = g.relu(g.conv(d1, 4, 8, 3, pad=1, bias=True))
    w = g.init("ct_w", rng.normal(0, 0.3, (8, 4, 2, 2)))
    b = g.init("ct_b", rng.normal(0, 0.1, 4))
    up = g.node("ConvTranspose", [e2, w, b], kernel_shape=[2, 2], strides=[2, 2])
    cat = g.node("Concat", [e1, up], axis=1)
    y = g.relu(g.conv(cat, 8, 4, 3, pad=1, bias=True))
    small = g.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    empty = g.init("roi", np.zeros(0))
    near = g.node("Resize", [small, empty, g.init("sc", [1.0, 1.0, 2.0, 2.0])], mode="nearest",
                  coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    lin = g.node("Resize", [small, empty, g.init("sc", [1.0, 1.0, 2.0, 2.0])], mode="linear",
                 coordinate_transformation_mode="half_pixel")
    z = g.conv(g.node("Add", [near, lin]), 4, 2, 1, bias=True)
    g.nodes.append(helper.make_node("Sigmoid", [z], ["masks"]))
    g.save(path, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 1, size, size])],
           [helper.make_tensor_value_info("masks", TensorProto.FLOAT, [None, 2, size, size])], "tiny_unet")


def run(path, x):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return {o.name: v for o, v in zip(s.get_outputs(), s.run(None, {s.get_inputs()[0].name: x}))}


expected = {}
densenet(os.path.join(out_dir, "mini_densenet.onnx"), 64, growth=8, blocks=(2, 2, 2, 2), init_features=16)
misc(os.path.join(out_dir, "misc_ops.onnx"))
region(os.path.join(out_dir, "region_model.onnx"), 32, (8, 16, 20, 28), "region")
demo(os.path.join(out_dir, "demo_model.onnx"), 64)
demo_findings(os.path.join(out_dir, "demo_findings.onnx"), 64)
tiny_unet(os.path.join(out_dir, "tiny_unet.onnx"), 32)
for name, shape in (("mini_densenet", (2, 1, 64, 64)), ("misc_ops", (2, 1, 16, 16)), ("region_model", (1, 1, 32, 32)),
                    ("demo_model", (1, 1, 64, 64)), ("tiny_unet", (1, 1, 32, 32))):
    x = (rng.uniform(-1024, 1024, shape) if name == "mini_densenet" else rng.uniform(0, 1, shape) if name == "demo_model"
         else rng.normal(0, 1, shape)).astype(np.float32)
    outs = run(os.path.join(out_dir, name + ".onnx"), x)
    expected[name] = {"input_shape": list(shape), "input": x.ravel().tolist(),
                      "outputs": {k: {"shape": list(v.shape), "values": v.ravel().tolist()} for k, v in outs.items()}}
json.dump({"source": f"onnxruntime {ort.__version__} (CPUExecutionProvider), onnx {onnx.__version__}", "models": expected},
          open(os.path.join(out_dir, "expected_outputs.json"), "w"))

if "--densenet121" in sys.argv:
    for size in (224, 512):
        densenet(os.path.join(out_dir, f"densenet121_{size}.onnx"), size, growth=32, blocks=(6, 12, 24, 16), init_features=64)
print("written to", out_dir)
