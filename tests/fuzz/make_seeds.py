#!/usr/bin/python3
"""Writes the fuzzers' seed corpus into tests/fuzz/seeds/{pth,onnx,image}: small, valid files of
each kind (tiny state dicts in both torch.save formats, tiny ONNX graphs, tiny images in every
format OpenCV reads), made with Debian's PyTorch, onnx and OpenCV. The seeds are committed.

    /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import collections
import pathlib
import struct

import cv2
import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from PIL import Image

HERE = pathlib.Path(__file__).resolve().parent / "seeds"


def pth_seeds(out):
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    sd = collections.OrderedDict()
    sd["conv1.weight"] = torch.randn(4, 3, 7, 7)
    sd["bn1.weight"] = torch.ones(4)
    sd["bn1.running_mean"] = torch.zeros(4)
    sd["bn1.num_batches_tracked"] = torch.tensor(3)
    sd["layer1.0.conv1.weight"] = torch.randn(4, 4, 3, 3)[:, :, :2, :]  # a strided view
    sd["fc.weight"] = torch.randn(10, 4).half()
    sd["fc.bias"] = torch.randn(10).double()
    sd._metadata = collections.OrderedDict({"": {"version": 1}})
    torch.save(sd, out / "small.pth")
    torch.save(sd, out / "small_legacy.pth", _use_new_zipfile_serialization=False)
    torch.save({"state_dict": {"fc.weight": torch.randn(2, 3)}}, out / "wrapped.pth")
    torch.save({"module.fc.weight": torch.randn(2, 2).bfloat16()}, out / "dataparallel.pth")
    # Cycles (a dict inside itself; a list inside itself next to the tensors), many views of
    # one storage, and a zip64 locator in a file too short for the record it points at.
    cyclic = {}
    cyclic["state_dict"] = cyclic
    torch.save(cyclic, out / "cycle.pth")
    torch.save(cyclic, out / "cycle_legacy.pth", _use_new_zipfile_serialization=False)
    loop = []
    loop.append(loop)
    base = torch.arange(12.0)
    torch.save({"history": loop, "state_dict": {"a.weight": base[:6].view(2, 3), "b.weight": base[6:].view(3, 2),
                                                "c.weight": base}}, out / "views_and_loop.pth")
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0, 0, 0, 0, 0)
    (out / "zip64_locator.pth").write_bytes(b"PK\x03\x04" + b"\0" * 4 + struct.pack("<IIQI", 0x07064B50, 0, 4, 1) + eocd)


def onnx_seeds(out):
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)

    def t(name, *shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["c0"], kernel_shape=[7, 7], strides=[2, 2], pads=[3, 3, 3, 3]),
        helper.make_node("BatchNormalization", ["c0", "g", "b", "m", "v"], ["n0"], epsilon=1e-5),
        helper.make_node("Relu", ["n0"], ["r0"]),
        helper.make_node("MaxPool", ["r0"], ["p0"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["p0", "w1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "p0"], ["a"]),
        helper.make_node("Relu", ["a"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g0"]),
        helper.make_node("Flatten", ["g0"], ["f0"]),
        helper.make_node("Identity", ["fw"], ["fw2"]),
        helper.make_node("Gemm", ["f0", "fw2", "fb"], ["y"], transB=1),
    ]
    inits = [t("w0", 4, 3, 7, 7), t("g", 4), t("b", 4), t("m", 4), t("v", 4), t("w1", 4, 4, 3, 3),
             t("w2", 4, 4, 3, 3), t("fw", 5, 4), t("fb", 5)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 5])], inits)
    onnx.save(helper.make_model(graph), str(out / "tiny_resnet.onnx"))
    const = helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([1, -1], np.int64)))
    graph2 = helper.make_graph([const, helper.make_node("Reshape", ["x", "shape"], ["y"])], "reshape",
                               [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
                               [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph2), str(out / "reshape.onnx"))
    # Attributes that change meaning, an Identity chain, and a training-mode batch norm.
    nodes[3] = helper.make_node("MaxPool", ["r0"], ["p0"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                ceil_mode=1, dilations=[1, 1])
    nodes[1] = helper.make_node("BatchNormalization", ["c0", "g", "b", "m", "v"], ["n0", "rm", "rv"], epsilon=1e-5,
                                training_mode=1)
    nodes[11:12] = [helper.make_node("Identity", ["fw"], ["fw1"]), helper.make_node("Identity", ["fw1"], ["fw1b"]),
                    helper.make_node("Identity", ["fw1b"], ["fw2"])]
    graph3 = helper.make_graph(nodes, "attributes", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 32, 32])],
                               [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 5])], inits)
    onnx.save(helper.make_model(graph3), str(out / "attributes.onnx"))


def image_seeds(out):
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (9, 13, 3), dtype=np.uint8)
    for ext, params in [(".png", []), (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 80]), (".bmp", []),
                        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80]), (".ppm", []), (".tiff", [])]:
        cv2.imwrite(str(out / ("rgb" + ext)), rgb, params)
    cv2.imwrite(str(out / "gray.pgm"), rgb[:, :, 0])
    cv2.imwrite(str(out / "gray16.png"), (rgb[:, :, 0].astype(np.uint16) * 257))
    cv2.imwrite(str(out / "bgra.png"), np.dstack([rgb, rgb[:, :, :1]]))
    cv2.imwrite(str(out / "progressive.jpg"), rgb, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    # Every other format OpenCV decodes (each must be sized up from its header), PNM maxvals PIL
    # rescales, 16-bit samples, and EXIF orientation in each container PIL reads it from.
    for ext in (".hdr", ".pfm", ".ras", ".pam"):
        cv2.imwrite(str(out / ("rgb" + ext)), rgb.astype(np.float32) / 255 if ext in (".hdr", ".pfm") else rgb)
    cv2.imwrite(str(out / "rgb.jp2"), cv2.resize(rgb, (64, 48)))  # OpenJPEG needs a few resolutions
    wide = rgb.astype(np.uint16) * 3
    (out / "p6_maxval_1000.ppm").write_bytes(b"P6\n13 9\n1000\n" + (wide * 1.3).astype(">u2").tobytes())
    (out / "p5_maxval_4095.pgm").write_bytes(b"P5\n13 9\n4095\n" + (wide[:, :, 0] * 5).astype(">u2").tobytes())
    (out / "p2_plain.pgm").write_bytes(b"P2\n# comment\n4 2\n7\n0 1 2 3\n4 5 6 7\n")
    (out / "p4.pbm").write_bytes(b"P4\n13 9\n" + np.packbits(rgb[:, :, 0] > 128, axis=1).tobytes())
    cv2.imwrite(str(out / "rgb16.tiff"), wide * 21)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(out / "exif6.webp", exif=exif.tobytes(), lossless=True)
    Image.fromarray(rgb).save(out / "exif6.png", exif=exif.tobytes())
    Image.fromarray(rgb).save(out / "exif6.jpg", exif=exif.tobytes(), quality=80)
    # Issue 23: CMYK JPEG (PIL's conversion), GIF, HEIC, AVIF reach their decoders through here too.
    Image.fromarray(rgb).convert("CMYK").save(out / "cmyk.jpg", quality=80)
    Image.fromarray(rgb).quantize(16).save(out / "rgb.gif")
    heif_seeds(out, rgb, prefix="rgb")


def gif_seeds(out):
    """GIFs for fuzz_gif: PIL's (global table, animated), and hand-made ones with a local table,
    a transparent index, interlacing, a frame offset past the screen."""
    import sys
    sys.path.insert(0, str(HERE.parent.parent / "fixtures"))
    import make_hostile
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 255, (9, 13, 3), dtype=np.uint8)
    Image.fromarray(rgb).quantize(8).save(out / "pil.gif")
    frames = [Image.fromarray(rgb).quantize(4), Image.fromarray(rgb[::-1]).quantize(4)]
    frames[0].save(out / "animated.gif", save_all=True, append_images=frames[1:], duration=50)
    idx = rng.integers(0, 16, (6, 5), dtype=np.uint8)
    table = bytes(rng.integers(0, 256, 48, dtype=np.uint8))
    (out / "local_transparent.gif").write_bytes(make_hostile.gif_bytes(
        (8, 8), [{"pixels": idx, "at": (2, 1), "table": table, "transparent": 3}]))
    (out / "interlaced.gif").write_bytes(make_hostile.gif_bytes((5, 6), [{"pixels": idx, "interlace": True}], global_table=table))
    (out / "past_screen.gif").write_bytes(make_hostile.gif_bytes((4, 4), [{"pixels": idx, "at": (3, 3)}]))


def heif_seeds(out, rgb, prefix=""):
    """Tiny HEIC and AVIF files (libheif's and libavif's encoders, when installed)."""
    import shutil
    import subprocess
    import tempfile
    if not (shutil.which("heif-enc") and shutil.which("avifenc")):
        print("warning: heif-enc / avifenc missing (libheif-examples, libavif-bin): no HEIC/AVIF seeds")
        return
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        Image.fromarray(rgb).save(f"{tmp}/in.png")
        for name, args in [(f"{prefix}.heic", ["heif-enc", "-q", "50", "-o"]),
                           (f"{prefix}.avif", ["avifenc", "--min", "30", "--max", "40"]),
                           (f"{prefix}_irot.avif", ["avifenc", "--irot", "1", "--imir", "0"])]:
            if args[0] == "heif-enc":
                cmd = args + [str(out / name), f"{tmp}/in.png"]
            else:
                cmd = args + [f"{tmp}/in.png", str(out / name)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def safetensors_seeds(out):
    """Tiny safetensors files in every float dtype, transformers names, and configs."""
    import json
    import struct
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    def write(path, tensors, metadata=None):
        header, blobs, at = ({"__metadata__": metadata} if metadata else {}), [], 0
        for name, t in tensors.items():
            raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).contiguous().numpy().tobytes()
            dtype = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
                     torch.int64: "I64"}[t.dtype]
            header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
            blobs.append(raw)
            at += len(raw)
        h = json.dumps(header).encode()
        (out / path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))

    write("small.safetensors", {"conv1.weight": torch.randn(4, 3, 7, 7), "fc.weight": torch.randn(10, 4).half(),
                                "fc.bias": torch.randn(10).double(), "bn1.num_batches_tracked": torch.tensor(3),
                                "layer1.0.conv1.weight": torch.randn(4, 4, 3, 3).bfloat16()}, {"format": "pt"})
    write("transformers.safetensors", {"resnet.embedder.embedder.convolution.weight": torch.randn(2, 3, 7, 7),
                                       "resnet.encoder.stages.0.layers.0.layer.0.convolution.weight":
                                           torch.randn(2, 2, 3, 3),
                                       "classifier.1.bias": torch.randn(3)})
    write("empty.safetensors", {})
    (out / "timm_config.json").write_text(json.dumps(
        {"architecture": "resnet18", "num_classes": 2, "label_names": ["a", "b"],
         "pretrained_cfg": {"input_size": [3, 224, 224], "interpolation": "bicubic", "crop_pct": 0.95,
                            "crop_mode": "center", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}))
    (out / "transformers_config.json").write_bytes(json.dumps(
        {"model_type": "resnet", "layer_type": "basic", "id2label": {"0": "a", "1": "b"}}).encode() + b"\0" +
        json.dumps({"crop_pct": 0.875, "resample": 3, "size": {"shortest_edge": 224},
                    "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}).encode())


if __name__ == "__main__":
    pth_seeds(HERE / "pth")
    onnx_seeds(HERE / "onnx")
    image_seeds(HERE / "image")
    gif_seeds(HERE / "gif")
    heif_seeds(HERE / "heif", np.random.default_rng(2).integers(0, 255, (16, 24, 3), dtype=np.uint8), prefix="small")
    safetensors_seeds(HERE / "safetensors")
    print("seeds written to", HERE)
