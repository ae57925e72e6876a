// Weight names: the namings people's files use, mapped onto torchvision's (the names
// NetworkSpec and validateWeights() know). A rename only: the networks are the same.
//   torchvision, timm        conv1.weight, layer1.0.bn1.running_var, fc.bias (as is)
//   Hugging Face transformers (microsoft/resnet-18, -34)
//       resnet.embedder.embedder.{convolution,normalization}      -> conv1, bn1
//       resnet.encoder.stages.S.layers.I.layer.J.{convolution,normalization}
//                                                                  -> layer<S+1>.I.conv<J+1>,
//                                                                  bn<J+1>
//       resnet.encoder.stages.S.layers.I.shortcut.{convolution,normalization}
//                                                                  -> layer<S+1>.I.downsample.{0,1}
//       classifier.1                                               -> fc
//   either of them under a prefix: 'module.' (nn.DataParallel), 'model.' (PyTorch Lightning's
//   attribute), 'backbone.', ... found by structure (the prefix under which a whole ResNet
//   stem and first block are), not from a list.
#pragma once

#include <string>

#include "core/model/weights.h"

namespace r18 {

// Renames the tensors (and the nonFloat entries) of `weights` in place and returns what was
// done in a few words for the user ("transformers names mapped onto torchvision's; prefix
// 'model.' stripped"), or "" when the names already were torchvision's. Tensors outside the
// chosen prefix are dropped, and the description counts them. Names it cannot map are kept,
// so that validateWeights() names them.
std::string mapToTorchvisionNames(WeightSet& weights);

}  // namespace r18
