// What every headless verb (and the window's command line) shares: exit codes, usage errors,
// the thread-count and --algorithm options, and the command line's bytes kept exactly as the OS
// gave them.
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QString>
#include <QStringList>

#include <string>
#include <vector>

#include "core/files.h"

namespace r18::cli {

// Exit codes shared by every verb.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitBadInput = 3;
constexpr int kExitInterrupted = 130;  // stopped by Ctrl+C (128 + SIGINT), output finished

// A wrong option or argument: the verb prints "usage error: MESSAGE" and a hint to --help, and
// exits with kExitUsage.
struct UsageError {
    std::string message;
};

// The value of a thread-count option (`option` is "--threads", "--decode-threads"): a whole
// number ≥ 0, 0 meaning the default. More than this machine's cores is capped at them, saying so
// on stderr ("note: --threads 100000: this machine has 2 cores; using 2"), however many digits it
// has; anything else ("abc", "-1", "2.5") throws UsageError.
int threadsOption(const std::string& option, const QString& value);

// Options every verb and the window take, added to `p` before it parses: --algorithm
// auto|direct|winograd, how fp32 3×3 stride-1 convolutions are computed by every engine of the
// process (setDefaultConvAlgorithm).
QCommandLineOption algorithmOption();
// After parsing: applies them; a bad value throws UsageError.
void applyAlgorithmOption(const QCommandLineParser& p, const QCommandLineOption& option);

// A verb's parse: adds --help and the common options above, parses `args` (a parse error throws
// UsageError) and applies them. True if --help was asked for and printed.
bool parseVerb(QCommandLineParser& p, const QStringList& args);

// Arguments as the OS gave them. Qt decodes argv as UTF-8 and makes U+FFFD of bytes that are
// not, so a file named with byte 0xff could not be opened. argumentsOf() keeps each such byte as
// a lone surrogate U+DC80 + byte (Python's "surrogateescape"); bytesOf() turns an argument, or
// any part of one, back into exactly those bytes. Paths from the command line go through it.
QStringList argumentsOf(int argc, char** argv);
std::string bytesOf(const QString& argument);

// Text for a message or a listing: bytes that are not UTF-8 (from a file name) as U+FFFD.
std::string shown(const std::string& text);

// Throws UsageError if an output names an input or another output (outputOverInputProblem() in
// core/files.h): called before a verb does any work, and again with the model's files once it
// is open.
void refuseOutputOverInput(const std::vector<RoleAndPath>& outputs,
                           const std::vector<RoleAndPath>& inputs);

}  // namespace r18::cli
