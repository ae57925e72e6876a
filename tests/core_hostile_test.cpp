// Hostile inputs, round two (issue 12): the corpus tests/fixtures/make_hostile.py writes into
// fixtures/hostile/, one class of problem per generator. Every case must end in a clear error
// naming the file and the problem -- in the library and through the command line, within a
// minute and under 1 GB -- or, for the odd-but-valid ones, load exactly what PyTorch saved.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/model/weights.h"
#include "tests/test_util.h"

extern char** environ;

namespace r18 {
namespace {

using test::fixture;

struct HostileCase {
    std::string file;
    std::string kind;
    std::string expected;
};

std::vector<HostileCase> hostileCases(const std::string& kind) {
    std::vector<HostileCase> cases;
    std::ifstream in(fixture("hostile/cases.tsv"));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        HostileCase c;
        std::getline(fields, c.file, '\t');
        std::getline(fields, c.kind, '\t');
        std::getline(fields, c.expected);
        if (c.kind == kind) cases.push_back(c);
    }
    return cases;
}

std::string caseName(const testing::TestParamInfo<HostileCase>& p) {
    return test::identifier(p.param.file);
}

// A command's exit code, stderr and peak resident memory (its own, measured by wait4).
struct Measured {
    int exitCode = -1;
    std::string err;
    double peakMb = 0.0;
};

Measured runMeasured(const std::vector<std::string>& args) {
    const std::string errPath = test::tempDir() + "/err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    Measured m;
    if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) return m;
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    m.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    m.err = test::readText(errPath);
    m.peakMb = static_cast<double>(usage.ru_maxrss) / 1024.0;
    return m;
}

class HostileWeights : public testing::TestWithParam<HostileCase> {};

TEST_P(HostileWeights, ClearErrorNamingFileAndProblem) {
    const std::string path = fixture("hostile/" + GetParam().file);
    std::string message;
    try {
        const WeightSet w = loadWeights(path);
        validateWeights(inferSpec(w), w);
    } catch (const WeightsError& e) {
        message = e.what();
    }
    ASSERT_FALSE(message.empty()) << path << " was accepted";
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
}

// The same through `info`: exit code 3, the message, and the memory it took.
TEST_P(HostileWeights, CommandLineRefusesWithinBoundedMemory) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const Measured m = runMeasured({"/usr/bin/timeout", "60", R18_CLI, "info", "--weights", path});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find("error: " + path + ": "), std::string::npos) << m.err;
    EXPECT_NE(m.err.find(GetParam().expected), std::string::npos) << m.err;
    EXPECT_LT(m.peakMb, 1024.0) << path;
    std::printf("[ memory ] %s: peak %.0f MB\n", GetParam().file.c_str(), m.peakMb);
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileWeights, testing::ValuesIn(hostileCases("weights")),
                         caseName);

// Odd but valid: every tensor a view into one flat storage, a checkpoint holding a list that
// contains itself, an 8,000-node Identity chain. They load exactly the tensors of the fixture.
class OddWeights : public testing::TestWithParam<HostileCase> {};

TEST_P(OddWeights, LoadExactlyWhatPyTorchSaved) {
    const WeightSet w = loadWeights(fixture("hostile/" + GetParam().file));
    const WeightSet ref = loadWeights(fixture(GetParam().expected));
    EXPECT_NO_THROW(validateWeights(inferSpec(w), w));
    const bool folded = w.get("bn1.weight") == nullptr;  // an ONNX export without batch norm
    int compared = 0;
    for (const auto& [name, t] : w.tensors) {
        const Tensor* r = ref.get(name);
        ASSERT_NE(r, nullptr) << name;
        EXPECT_EQ(r->dims, t.dims) << name;
        EXPECT_EQ(r->data, t.data) << name;
        ++compared;
    }
    if (!folded) {
        EXPECT_EQ(compared, static_cast<int>(ref.tensors.size()));
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, OddWeights, testing::ValuesIn(hostileCases("weights-ok")),
                         caseName);

TEST(HostileCorpus, CoversEveryClass) {
    EXPECT_GE(hostileCases("weights").size(), 30u);
    EXPECT_GE(hostileCases("weights-ok").size(), 4u);
}

}  // namespace
}  // namespace r18
