"""onnxruntime's side of bench/predict.sh: writes the shared input (seeded, torchxrayvision's [-1024, 1024]
range) and prints JSON with the median latency and the logits. Usage: MODEL SIZE THREADS RUNS"""
import json, os, statistics, sys, time
import numpy as np, onnxruntime as ort

model, size, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
path = os.path.join(os.path.dirname(model), f"input_{size}.f32")
x = np.random.default_rng(7).uniform(-1024, 1024, (1, 1, size, size)).astype("<f4")
x.tofile(path)
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
for _ in range(2):
    s.run(None, {"image": x})
ts = []
for _ in range(runs):
    t0 = time.perf_counter(); out = s.run(["logits"], {"image": x}); ts.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"median_ms": statistics.median(ts), "logits": out[0].ravel().tolist(), "onnxruntime": ort.__version__}))
