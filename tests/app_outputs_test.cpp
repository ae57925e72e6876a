// No output ever destroys an input or an existing good file (issue 23): AtomicFile replaces a
// file whole or not at all; every verb refuses an output that names an input (after symbolic
// links) before any work starts; and a folder run killed with SIGKILL at any moment leaves each
// output either as it was or complete.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/files.h"
#include "core/formats/npy.h"
#include "tests/test_util.h"

extern char** environ;

namespace r18 {
namespace {

namespace fs = std::filesystem;
using test::fixture;

const std::string kCli = R18_CLI;

std::string weights() {
    return fixture("weights/resnet18_seeded.pth");
}

// The CLI with default weight locations emptied, run directly (no shell).
test::Measured cli(std::vector<std::string> args) {
    const std::string home = test::tempDir();
    args.insert(args.begin(),
                {"/usr/bin/env", "-u", "RESNET18_WEIGHTS", "HOME=" + home, "XDG_DATA_HOME=" + home,
                 "QT_QPA_PLATFORM=offscreen", "/usr/bin/timeout", "120", kCli});
    return test::runMeasured(args);
}

void writeText(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

std::string copyOf(const std::string& from, const std::string& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    return to;
}

// Files in `dir` whose names start with '.' and end with ".part": temporary files left behind.
std::vector<std::string> partFiles(const std::string& dir) {
    std::vector<std::string> parts;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.front() == '.' && name.size() > 5 && name.substr(name.size() - 5) == ".part")
            parts.push_back(name);
    }
    return parts;
}

// --- AtomicFile ------------------------------------------------------------------------------

TEST(AtomicFile, CommitReplacesTheTargetWhole) {
    const std::string dir = test::tempDir();
    const std::string path = dir + "/out.csv";
    writeText(path, "old");
    {
        AtomicFile f(path);
        f.write("new ");
        EXPECT_EQ(test::readText(path), "old") << "the target changed before commit()";
        f.write("text");
        f.commit();
    }
    EXPECT_EQ(test::readText(path), "new text");
    EXPECT_TRUE(partFiles(dir).empty());
}

TEST(AtomicFile, WithoutCommitTheTargetIsUntouchedAndNothingIsLeft) {
    const std::string dir = test::tempDir();
    const std::string path = dir + "/out.npy";
    writeText(path, "old");
    {
        AtomicFile f(path);
        f.write("half of a new file");
    }
    EXPECT_EQ(test::readText(path), "old");
    EXPECT_TRUE(partFiles(dir).empty());
    {
        AtomicFile f(dir + "/new.csv");
        f.write("x");
    }
    EXPECT_FALSE(test::fileExists(dir + "/new.csv"));
}

TEST(AtomicFile, NpyWriterWithoutCloseLeavesTheOldFile) {
    const std::string dir = test::tempDir();
    const std::string path = dir + "/tap.npy";
    writeText(path, "old");
    {
        NpyWriter w(path, {2});
        const float v[2] = {1, 2};
        w.append(v, 1);
        EXPECT_EQ(test::readText(path), "old");
    }
    EXPECT_EQ(test::readText(path), "old");
    EXPECT_TRUE(partFiles(dir).empty());
}

TEST(AtomicFile, ASymbolicLinkKeepsPointingAtTheReplacedFile) {
    const std::string dir = test::tempDir();
    fs::create_directory(dir + "/real");
    writeText(dir + "/real/out.csv", "old");
    fs::create_symlink("real/out.csv", dir + "/link.csv");
    writeFileChecked(dir + "/link.csv", std::string("new"));
    EXPECT_TRUE(fs::is_symlink(dir + "/link.csv"));
    EXPECT_EQ(test::readText(dir + "/real/out.csv"), "new");
}

TEST(AtomicFile, KeepsTheReplacedFilesPermissions) {
    const std::string dir = test::tempDir();
    const std::string path = dir + "/out.csv";
    writeText(path, "old");
    ::chmod(path.c_str(), 0640);
    writeFileChecked(path, std::string("new"));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(AtomicFile, DevicesAreWrittenInPlaceAndFoldersRefused) {
    writeFileChecked("/dev/null", std::string("nothing"));  // not renamed over /dev/null
    EXPECT_EQ(fileKind("/dev/null"), FileKind::CharDevice);
    try {
        writeFileChecked("/dev/full", std::string("x"));
        ADD_FAILURE() << "no error writing /dev/full";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("/dev/full: writing the file failed", 0), 0u)
            << e.what();
    }
    const std::string dir = test::tempDir();
    try {
        writeFileChecked(dir, std::string("x"));
        ADD_FAILURE() << "no error writing over a folder";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), dir + ": is a folder; cannot write a file there.");
    }
}

TEST(AtomicFile, OutputOverInputNamesBoth) {
    const std::string dir = test::tempDir();
    writeText(dir + "/photo.jpg", "jpeg");
    fs::create_symlink("photo.jpg", dir + "/link.jpg");
    fs::create_hard_link(dir + "/photo.jpg", dir + "/hard.jpg");
    const std::vector<RoleAndPath> inputs = {{"the image", dir + "/photo.jpg"}};
    EXPECT_EQ(outputOverInputProblem({{"--csv", dir + "/link.jpg"}}, inputs),
              "--csv " + dir + "/link.jpg is the image " + dir +
                  "/photo.jpg: an output is never written over an input; choose another file "
                  "name.");
    EXPECT_NE(outputOverInputProblem({{"--csv", dir + "/hard.jpg"}}, inputs), "");
    EXPECT_EQ(outputOverInputProblem({{"--csv", dir + "/out.csv"}}, inputs), "");
    EXPECT_EQ(outputOverInputProblem(
                  {{"--csv", dir + "/out.csv"}, {"--save-logits", dir + "/./out.csv"}}, inputs),
              "--csv " + dir + "/out.csv and --save-logits " + dir +
                  "/./out.csv name the same file; choose a file name for each.");
    EXPECT_EQ(
        outputOverInputProblem({{"--csv", "/dev/null"}, {"--save-logits", "/dev/null"}}, inputs),
        "");
}

// --- the verbs refuse an output that is an input, before any work -----------------------------

struct Refusal {
    std::string name;
    std::vector<std::string> args;  // {PHOTO} stands for the copy of the photo, {DIR} its folder
    std::string output;             // the option the message names
    std::string input;              // what the message says the file is
};

class OutputOverInput : public testing::TestWithParam<Refusal> {};

TEST_P(OutputOverInput, IsAUsageErrorAndTheFileIsUntouched) {
    const Refusal& r = GetParam();
    const std::string dir = test::tempDir();
    const std::string photo = copyOf(test::fixtureImage("dog").path, dir + "/photo.jpg");
    const std::string w = copyOf(weights(), dir + "/model.pth");
    std::string labels;
    for (int i = 0; i < 1000; ++i) labels += "class " + std::to_string(i) + "\n";
    writeText(dir + "/labels.txt", labels);
    fs::create_symlink("photo.jpg", dir + "/link.jpg");
    const std::vector<uint8_t> before = test::readBytes(photo);
    const std::vector<uint8_t> weightsBefore = test::readBytes(w);
    std::vector<std::string> args;
    for (std::string a : r.args) {
        for (const auto& [from, to] : {std::pair<std::string, std::string>{"{PHOTO}", photo},
                                       {"{DIR}", dir},
                                       {"{W}", w},
                                       {"{OTHER}", test::fixtureImage("gray_301x187").path}}) {
            const size_t at = a.find(from);
            if (at != std::string::npos) a.replace(at, from.size(), to);
        }
        args.push_back(a);
    }
    const test::Measured m = cli(args);
    EXPECT_EQ(m.exitCode, 2) << m.err;
    EXPECT_NE(m.err.find("usage error: " + r.output + " "), std::string::npos) << m.err;
    EXPECT_NE(m.err.find(" is " + r.input + " "), std::string::npos) << m.err;
    EXPECT_NE(m.err.find("an output is never written over an input"), std::string::npos) << m.err;
    EXPECT_EQ(test::readBytes(photo), before) << "the photo was changed";
    EXPECT_EQ(test::readBytes(w), weightsBefore) << "the weights were changed";
    EXPECT_TRUE(partFiles(dir).empty());
}

INSTANTIATE_TEST_SUITE_P(
    Verbs, OutputOverInput,
    testing::Values(
        Refusal{"classify_csv_glob",
                {"classify", "--weights", "{W}", "--csv", "{PHOTO}", "{PHOTO}"},
                "--csv",
                "the image"},
        Refusal{"classify_save_logits",
                {"classify", "--weights", "{W}", "--save-logits", "{PHOTO}", "{PHOTO}"},
                "--save-logits",
                "the image"},
        Refusal{"classify_save_tap",
                {"classify", "--weights", "{W}", "--save-tap", "layer1.0={PHOTO}", "{PHOTO}"},
                "--save-tap",
                "the image"},
        Refusal{"classify_through_a_link",
                {"classify", "--weights", "{W}", "--csv", "{DIR}/link.jpg", "{PHOTO}"},
                "--csv",
                "the image"},
        Refusal{"classify_image_in_a_folder",
                {"classify", "--weights", "{W}", "--csv", "{PHOTO}", "{DIR}"},
                "--csv",
                "the image"},
        Refusal{"classify_weights",
                {"classify", "--weights", "{W}", "--csv", "{W}", "{PHOTO}"},
                "--csv",
                "the weights"},
        Refusal{"classify_labels",
                {"classify", "--weights", "{W}", "--labels", "{DIR}/labels.txt", "--save-logits",
                 "{DIR}/labels.txt", "{PHOTO}"},
                "--save-logits",
                "the labels"},
        Refusal{"classify_calibration",
                {"classify", "--weights", "{W}", "--precision", "int8", "--calibration", "{DIR}",
                 "--csv", "{PHOTO}", "{OTHER}"},
                "--csv",
                "the calibration image"},
        Refusal{
            "explain_overlay",
            {"explain", "--method", "cam", "--weights", "{W}", "--overlay", "{PHOTO}", "{PHOTO}"},
            "--overlay",
            "the image"},
        Refusal{"explain_save",
                {"explain", "--method", "cam", "--weights", "{W}", "--save", "{W}", "{PHOTO}"},
                "--save",
                "the weights"},
        Refusal{
            "visualize_save",
            {"visualize", "--layer", "fc", "--channel", "1", "--weights", "{W}", "--save", "{W}"},
            "--save",
            "the weights"},
        Refusal{
            "channels_json",
            {"channels", "--layer", "layer4.1", "--weights", "{W}", "--json", "{PHOTO}", "{DIR}"},
            "--json",
            "the image"},
        Refusal{"window_screenshot",
                {"--weights", "{W}", "--screenshot", "{DIR}/link.jpg", "{PHOTO}"},
                "--screenshot",
                "the image"}),
    [](const testing::TestParamInfo<Refusal>& p) { return p.param.name; });

// --- killed at any moment: the old file or a complete new one ---------------------------------

pid_t spawn(const std::vector<std::string>& args) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return spawned == 0 ? pid : -1;
}

TEST(KilledFolderRun, LeavesEachOutputOldOrCompleteEveryTime) {
    // A folder of images, and outputs that already exist ("the previous run's").
    const std::string dir = test::tempDir();
    const std::string images = dir + "/images";
    fs::create_directory(images);
    const std::vector<std::string> ids = {"dog", "gray_301x187", "dog"};
    for (size_t i = 0; i < 8; ++i)
        copyOf(test::fixtureImage(ids[i % ids.size()]).path,
               images + "/img" + std::to_string(i) + ".jpg");
    const std::string out = dir + "/out";
    fs::create_directory(out);
    const std::vector<std::string> names = {"rows.csv", "logits.npy", "tap.npy"};
    auto args = [&](const std::string& folder) {
        return std::vector<std::string>{"/usr/bin/env",
                                        "-u",
                                        "RESNET18_WEIGHTS",
                                        "HOME=" + dir,
                                        kCli,
                                        "classify",
                                        "--weights",
                                        weights(),
                                        "--threads",
                                        "1",
                                        "--csv",
                                        folder + "/rows.csv",
                                        "--save-logits",
                                        folder + "/logits.npy",
                                        "--save-tap",
                                        "layer1.0=" + folder + "/tap.npy",
                                        images};
    };
    // What a complete run writes, and how long it takes.
    const std::string ref = dir + "/ref";
    fs::create_directory(ref);
    const auto start = std::chrono::steady_clock::now();
    const pid_t full = spawn(args(ref));
    ASSERT_GT(full, 0);
    int status = 0;
    ASSERT_EQ(waitpid(full, &status, 0), full);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::map<std::string, std::vector<uint8_t>> complete, old;
    for (const std::string& n : names) {
        complete[n] = test::readBytes(ref + "/" + n);
        ASSERT_FALSE(complete[n].empty()) << n;
        writeText(out + "/" + n, "the previous run's " + n);
        old[n] = test::readBytes(out + "/" + n);
    }
    // Killed at moments spread over the whole run and a little past it, so that some runs end
    // before the kill (seeded, so a failure can be replayed).
    std::mt19937 rng(23);
    const int kills = 16;
    int sawOld = 0, sawNew = 0;
    for (int k = 0; k < kills; ++k) {
        const double at =
            1.25 * seconds * (k + std::uniform_real_distribution<double>(0.0, 1.0)(rng)) / kills;
        const pid_t pid = spawn(args(out));
        ASSERT_GT(pid, 0);
        std::this_thread::sleep_for(std::chrono::duration<double>(at));
        ::kill(pid, SIGKILL);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        for (const std::string& n : names) {
            const std::vector<uint8_t> now = test::readBytes(out + "/" + n);
            const bool isOld = now == old[n];
            const bool isNew = now == complete[n];
            EXPECT_TRUE(isOld || isNew)
                << n << " after a kill at " << at << " s of " << seconds << " s: " << now.size()
                << " bytes, neither the old file (" << old[n].size() << ") nor the complete one ("
                << complete[n].size() << ")";
            sawOld += isOld;
            sawNew += isNew;
            // The next round starts from the old files again.
            writeText(out + "/" + n, "the previous run's " + n);
        }
        for (const std::string& part : partFiles(out)) fs::remove(out + "/" + part);
    }
    std::printf("[ kills ] %d kills over a %.2f s run: %d outputs old, %d complete\n", kills,
                seconds, sawOld, sawNew);
    EXPECT_GT(sawOld, 0);
}

}  // namespace
}  // namespace r18
