#include "core/engine/ablation.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace r18 {
namespace {

std::string validNodes(const NetworkSpec& spec) {
    std::string list;
    for (const std::string& t : spec.tapNames()) list += (list.empty() ? "" : ", ") + t;
    return list;
}

// The channel count of a tappable node; throws for anything else.
int channelsOf(const NetworkSpec& spec, const std::string& node) {
    const int i = spec.find(node);
    if (i < 0 || !spec.nodes[static_cast<size_t>(i)].tappable())
        throw EngineError("'" + node + "' is not a node whose channels can be switched off" +
                          (i >= 0 ? " (its output only exists fused with the residual add; use "
                                    "the block, '" +
                                        node.substr(0, node.rfind('.')) + "')"
                                  : "") +
                          ". Valid: " + validNodes(spec) + ".");
    return static_cast<int>(spec.nodes[static_cast<size_t>(i)].outShape[0]);
}

// A whole number of at most 9 digits at text[at...], advancing `at`; -1 if there is none.
int number(const std::string& text, size_t& at) {
    size_t end = at;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])) && end - at < 9)
        ++end;
    if (end == at) return -1;
    const int v = std::stoi(text.substr(at, end - at));
    at = end;
    return v;
}

}  // namespace

ChannelAblation parseAblation(const std::string& text, const NetworkSpec& spec) {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        throw EngineError("'" + text +
                          "' does not say which channels to switch off: write NODE:C1,C2,… "
                          "(e.g. layer3.1:0,5,17 or layer3.1:0-63).");
    ChannelAblation a;
    a.node = text.substr(0, colon);
    const int channels = channelsOf(spec, a.node);
    const std::string list = text.substr(colon + 1);
    size_t at = 0;
    while (true) {
        const int first = number(list, at);
        int last = first;
        if (first >= 0 && at < list.size() && list[at] == '-') {
            ++at;
            last = number(list, at);
        }
        if (first < 0 || last < 0 || (at < list.size() && list[at] != ','))
            throw EngineError("'" + text +
                              "': the channels must be numbers or ranges separated "
                              "by commas, e.g. " +
                              a.node + ":0,5,17 or " + a.node + ":0-63.");
        if (last < first)
            throw EngineError("'" + text + "': the range " + std::to_string(first) + "-" +
                              std::to_string(last) + " runs backwards.");
        if (last >= channels)
            throw EngineError("'" + text + "': '" + a.node + "' has channels 0 … " +
                              std::to_string(channels - 1) + ", not " + std::to_string(last) + ".");
        for (int c = first; c <= last; ++c) a.channels.push_back(c);
        if (at == list.size()) break;
        ++at;  // the comma
    }
    std::sort(a.channels.begin(), a.channels.end());
    a.channels.erase(std::unique(a.channels.begin(), a.channels.end()), a.channels.end());
    return a;
}

void checkAblations(const NetworkSpec& spec, const std::vector<ChannelAblation>& ablations,
                    int batch) {
    for (const ChannelAblation& a : ablations) {
        const int channels = channelsOf(spec, a.node);
        for (int c : a.channels)
            if (c < 0 || c >= channels)
                throw EngineError("Switching off channel " + std::to_string(c) + " of '" + a.node +
                                  "': it has channels 0 … " + std::to_string(channels - 1) + ".");
        if (a.image < -1 || a.image >= batch)
            throw EngineError("Switching off channels of '" + a.node + "' in image " +
                              std::to_string(a.image) + ": the batch has images 0 … " +
                              std::to_string(batch - 1) + ".");
    }
}

std::string ablationText(const ChannelAblation& ablation) {
    std::vector<int> c = ablation.channels;
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    std::string list;
    for (size_t i = 0; i < c.size();) {
        size_t j = i;
        while (j + 1 < c.size() && c[j + 1] == c[j] + 1) ++j;
        list += (list.empty() ? "" : ",") + std::to_string(c[i]);
        if (j >= i + 2) {
            list += "-" + std::to_string(c[j]);
            i = j + 1;
        } else {
            ++i;
        }
    }
    return ablation.node + ":" + list;
}

std::string describeAblations(const NetworkSpec& spec,
                              const std::vector<ChannelAblation>& ablations) {
    std::string out;
    for (const ChannelAblation& a : ablations) {
        const int i = spec.find(a.node);
        const std::string total =
            i >= 0 ? " of " + std::to_string(spec.nodes[static_cast<size_t>(i)].outShape[0]) : "";
        out += (out.empty() ? "" : "; ") + a.node + ": " + std::to_string(a.channels.size()) +
               total + (a.channels.size() == 1 && total.empty() ? " channel off" : " channels off");
    }
    return out;
}

}  // namespace r18
