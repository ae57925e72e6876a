#include "app/cli_args.h"

#include <QCommandLineParser>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <limits>

#include "core/engine/engine.h"
#include "core/engine/threads.h"

namespace r18::cli {

QCommandLineOption algorithmOption() {
    return {"algorithm",
            "fp32 3x3 convolutions: auto (Winograd where oneDNN has it, i.e. AVX-512; "
            "direct elsewhere), direct or winograd. Default auto.",
            "A", "auto"};
}

void applyAlgorithmOption(const QCommandLineParser& p, const QCommandLineOption& option) {
    const auto algorithm = parseConvAlgorithm(p.value(option).toStdString());
    if (!algorithm) throw UsageError{"--algorithm must be auto, direct or winograd"};
    setDefaultConvAlgorithm(*algorithm);
}

bool parseVerb(QCommandLineParser& p, const QStringList& args) {
    const QCommandLineOption algorithm = algorithmOption();
    p.addOption(algorithm);
    p.addHelpOption();
    if (!p.parse(args)) throw UsageError{p.errorText().toStdString()};
    if (p.isSet("help")) {
        std::cout << p.helpText().toStdString();
        return true;
    }
    applyAlgorithmOption(p, algorithm);
    return false;
}

int threadsOption(const std::string& option, const QString& value) {
    const std::string text = value.trimmed().toStdString();
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
        throw UsageError{option + " needs a whole number ≥ 0 (0: all cores), not '" +
                         value.toStdString() + "'"};
    // More digits than a long long holds are as many threads as any machine would cap.
    const size_t significant = std::min(text.find_first_not_of('0'), text.size());
    const long long requested =
        text.size() - significant > 18
            ? std::numeric_limits<long long>::max()
            : std::stoll(text.substr(std::min(significant, text.size() - 1)));
    if (requested == 0) return 0;
    std::string note;
    const int threads = capThreads(requested, &note);
    if (!note.empty()) std::cerr << "note: " << option << " " << text << ": " << note << "\n";
    return threads;
}

QStringList argumentsOf(int argc, char** argv) {
    QStringList args;
    for (int i = 0; i < argc; ++i) {
        const auto* b = reinterpret_cast<const unsigned char*>(argv[i]);
        const size_t n = std::strlen(argv[i]);
        QString arg;
        for (size_t at = 0; at < n;) {
            // The length of a valid UTF-8 sequence at `at` (no overlongs, no surrogates,
            // nothing above U+10FFFF), or 0.
            size_t len = 0;
            char32_t cp = 0;
            if (b[at] < 0x80) {
                len = 1, cp = b[at];
            } else if (b[at] >= 0xC2 && b[at] <= 0xF4) {
                const size_t want = b[at] < 0xE0 ? 2 : b[at] < 0xF0 ? 3 : 4;
                cp = b[at] & (want == 2 ? 0x1F : want == 3 ? 0x0F : 0x07);
                size_t k = 1;
                for (; k < want && at + k < n && (b[at + k] & 0xC0) == 0x80; ++k)
                    cp = (cp << 6) | (b[at + k] & 0x3F);
                const bool shortest = want == 2 || (want == 3 && cp >= 0x800) ||
                                      (want == 4 && cp >= 0x10000 && cp <= 0x10FFFF);
                if (k == want && shortest && !(cp >= 0xD800 && cp <= 0xDFFF)) len = want;
            }
            if (len == 0) {
                arg += QChar(static_cast<char16_t>(0xDC00 + b[at]));
                ++at;
                continue;
            }
            arg += QString::fromUcs4(&cp, 1);
            at += len;
        }
        args << arg;
    }
    return args;
}

std::string bytesOf(const QString& argument) {
    std::string out;
    const qsizetype n = argument.size();
    for (qsizetype i = 0; i < n; ++i) {
        char32_t cp = argument[i].unicode();
        if (QChar::isHighSurrogate(cp) && i + 1 < n && argument[i + 1].isLowSurrogate())
            cp = QChar::surrogateToUcs4(static_cast<char16_t>(cp), argument[++i].unicode());
        if (cp >= 0xDC80 && cp <= 0xDCFF) {
            out += static_cast<char>(cp - 0xDC00);
        } else if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    return out;
}

std::string shown(const std::string& text) {
    return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())).toStdString();
}

void refuseOutputOverInput(const std::vector<RoleAndPath>& outputs,
                           const std::vector<RoleAndPath>& inputs) {
    if (const std::string problem = outputOverInputProblem(outputs, inputs); !problem.empty())
        throw UsageError{shown(problem)};
}

}  // namespace r18::cli
