#include "tests/test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

extern char** environ;

namespace r18::test {

std::string fixtures() {
    return R18_FIXTURES;
}
std::string fixture(const std::string& relative) {
    return fixtures() + "/" + relative;
}

std::shared_ptr<const Model> seededModel() {
    static const std::shared_ptr<const Model> model = [] {
        ModelOptions options;
        options.weightsPath = fixture("weights/resnet18_seeded.pth");
        return Model::open(options);
    }();
    return model;
}

std::string makeVideo(const std::vector<std::string>& photoIds, int perPhoto, double fps,
                      const std::string& name) {
    const std::string path = tempDir() + "/" + name;
    cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps,
                           cv::Size(320, 240));
    if (!writer.isOpened()) throw std::runtime_error(path + ": cannot write the test video");
    for (const std::string& id : photoIds) {
        cv::Mat frame;
        cv::resize(cv::imread(fixtureImage(id).path), frame, cv::Size(320, 240), 0, 0,
                   cv::INTER_AREA);
        for (int i = 0; i < perPhoto; ++i) writer.write(frame);
    }
    return path;
}

double pearson(const std::vector<float>& a, const std::vector<float>& b) {
    double ma = 0, mb = 0;
    for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
    ma /= static_cast<double>(a.size());
    mb /= static_cast<double>(b.size());
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

std::vector<FixtureImage> fixtureImages() {
    std::ifstream f(fixture("manifest.tsv"));
    if (!f)
        throw std::runtime_error("fixtures missing: run tests/fixtures/make_fixtures.py " +
                                 fixtures());
    std::vector<FixtureImage> images;
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream row(line);
        FixtureImage im;
        std::string photo;
        std::getline(row, im.id, '\t');
        std::getline(row, im.path, '\t');
        std::getline(row, photo, '\t');
        im.photo = photo == "1";
        row >> im.top1 >> im.top1Margin >> im.maxAbsLogit;
        images.push_back(im);
    }
    return images;
}

FixtureImage fixtureImage(const std::string& id) {
    for (const FixtureImage& im : fixtureImages())
        if (im.id == id) return im;
    throw std::runtime_error("no fixture image " + id);
}

Comparison compare(const Tensor& expected, const Tensor& got) {
    Comparison c;
    c.sameShape = expected.dims == got.dims && expected.data.size() == got.data.size();
    if (!c.sameShape) return c;
    for (size_t i = 0; i < expected.data.size(); ++i) {
        const double d = std::fabs(static_cast<double>(expected.data[i]) - got.data[i]);
        c.maxAbsRef = std::max(c.maxAbsRef, std::fabs(static_cast<double>(expected.data[i])));
        if (d > c.maxAbsDiff || std::isnan(d)) {
            c.maxAbsDiff = std::isnan(d) ? INFINITY : d;
            c.worstIndex = static_cast<int64_t>(i);
        }
    }
    return c;
}

std::string Comparison::report(const std::string& what, const Tensor& expected,
                               const Tensor& got) const {
    std::ostringstream s;
    s << what << ": ";
    if (!sameShape) {
        s << "shape " << shapeToString(got.dims) << ", expected " << shapeToString(expected.dims);
        return s.str();
    }
    s << "max |diff| " << maxAbsDiff << " (" << maxAbsDiff / std::max(maxAbsRef, 1e-30)
      << " × max|ref| " << maxAbsRef << ")";
    if (worstIndex >= 0) {
        // unravel the flat index
        std::vector<int64_t> idx(expected.dims.size());
        int64_t rest = worstIndex;
        for (size_t d = idx.size(); d-- > 0;) {
            idx[d] = rest % expected.dims[d];
            rest /= expected.dims[d];
        }
        s << " at " << shapeToString(idx) << ": expected "
          << expected.data[static_cast<size_t>(worstIndex)] << ", got "
          << got.data[static_cast<size_t>(worstIndex)];
    }
    return s.str();
}

std::string readText(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string identifier(std::string text) {
    for (char& ch : text)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return text;
}

std::vector<std::string> filesIn(const std::string& dir) {
    std::vector<std::string> files;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d))
            if (e->d_type == DT_REG) files.push_back(dir + "/" + e->d_name);
        closedir(d);
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> fuzzRegressions(const std::string& kind) {
    return filesIn(std::string(R18_SOURCE_DIR) + "/tests/fuzz/regressions/" + kind);
}

std::vector<uint8_t> readBytes(const std::string& path) {
    const std::string text = readText(path);
    return {text.begin(), text.end()};
}

bool fileExists(const std::string& path) {
    return access(path.c_str(), F_OK) == 0;
}

std::string tempDir() {
    std::string pattern = std::string(R18_TEST_TMP) + "/r18test-XXXXXX";
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

CommandResult runCommand(const std::string& commandLine) {
    const std::string dir = tempDir();
    const std::string cmd = "(" + commandLine + ") >" + dir + "/out 2>" + dir + "/err";
    const int status = std::system(cmd.c_str());
    CommandResult r;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = readText(dir + "/out");
    r.err = readText(dir + "/err");
    return r;
}

Measured runMeasured(const std::vector<std::string>& args) {
    const std::string errPath = tempDir() + "/err";
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
    const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return m;
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    m.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    m.err = readText(errPath);
    m.peakMb = static_cast<double>(usage.ru_maxrss) / 1024.0;
    return m;
}

}  // namespace r18::test
