#!/usr/bin/python3
"""Writes resources/imagenet_classes.txt, one ImageNet-1k category per line, from the list
Debian's torchvision ships with its ResNet18 weights metadata (no download involved).

Run with Debian's python: /usr/bin/python3 resources/make_labels.py
"""
import pathlib

from torchvision.models import ResNet18_Weights

categories = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
assert len(categories) == 1000, len(categories)
out = pathlib.Path(__file__).with_name("imagenet_classes.txt")
out.write_text("\n".join(categories) + "\n", encoding="utf-8")
print(f"wrote {len(categories)} labels to {out}")
