// resnet18-explorer: the Explorer window by default; headless verbs (classify, info) for
// scripts. See README.md for both.
#include <iostream>

#include "app/cli.h"

int main(int argc, char** argv) {
    if (r18::cli::isVerb(argc, argv)) return r18::cli::run(argc, argv);
    std::cout << "resnet18-explorer: see ResNet18 at work.\n\n"
                 "  resnet18-explorer classify [--weights FILE] [--labels FILE] [--top K]\n"
                 "                             [--precision fp32|bf16] [--threads N] [--json]\n"
                 "                             [--save-logits OUT.npy] [--save-tap "
                 "NODE=OUT.npy]... IMAGE...\n"
                 "  resnet18-explorer info [--weights FILE]\n";
    return 0;
}
