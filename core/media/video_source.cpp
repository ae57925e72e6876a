#include "core/media/video_source.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/files.h"
#include "core/media/image_io.h"

namespace r18 {
namespace {

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

bool isNumber(const std::string& s) {
    return !s.empty() && s.size() < 4 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
}

std::string sizeText(int64_t width, int64_t height) {
    char text[96];
    std::snprintf(text, sizeof text, "%lld×%lld (%.1f megapixels)", static_cast<long long>(width),
                  static_cast<long long>(height), static_cast<double>(width * height) / 1e6);
    return text;
}

std::string overLimit(const std::string& spec, int64_t width, int64_t height) {
    return spec + ": its frames are " + sizeText(width, height) + ", over the live limit of " +
           sizeText(4096, 2304) +
           "; scale the video down (e.g. ffmpeg -i IN -vf scale=1920:-2 OUT.mp4).";
}

}  // namespace

std::vector<CameraInfo> listCameras() {
    std::vector<CameraInfo> cameras;
    DIR* dir = opendir("/dev");
    if (!dir) return cameras;
    while (dirent* e = readdir(dir)) {
        const std::string name = e->d_name;
        if (name.rfind("video", 0) != 0 || !isNumber(name.substr(5))) continue;
        CameraInfo c;
        c.index = std::stoi(name.substr(5));
        c.device = "/dev/" + name;
        std::ifstream sys("/sys/class/video4linux/" + name + "/name");
        std::string label;
        c.name = std::getline(sys, label) ? trim(label) : c.device;
        cameras.push_back(c);
    }
    closedir(dir);
    std::sort(cameras.begin(), cameras.end(),
              [](const CameraInfo& a, const CameraInfo& b) { return a.index < b.index; });
    return cameras;
}

std::unique_ptr<VideoSource> VideoSource::open(const std::string& spec, int width, int height) {
    auto source = std::make_unique<VideoSource>();
    const bool url = spec.find("://") != std::string::npos;
    std::string device = spec;
    int index = -1;
    if (isNumber(spec)) {
        index = std::stoi(spec);
        device = "/dev/video" + spec;
    } else if (spec.rfind("/dev/video", 0) == 0 && isNumber(spec.substr(10))) {
        index = std::stoi(spec.substr(10));
    }
    source->m_camera = index >= 0;
    if (source->m_camera) {
        std::string name;
        for (const CameraInfo& c : listCameras())
            if (c.index == index) name = c.name;
        source->m_label =
            "camera " + std::to_string(index) + (name.empty() ? "" : " (" + name + ")");
        struct stat st {};
        if (stat(device.c_str(), &st) != 0)
            throw VideoError(device + ": there is no such camera (is it plugged in?).");
        try {
            source->m_capture.open(index, cv::CAP_V4L2);
        } catch (const cv::Exception& e) {
            throw VideoError(device + ": the camera could not be opened (" + e.err + ").");
        }
        if (!source->m_capture.isOpened())
            throw VideoError(device +
                             ": the camera could not be opened; another program may be using it, "
                             "or this user may lack permission (group 'video').");
        if (width > 0 && height > 0) {
            source->m_capture.set(cv::CAP_PROP_FRAME_WIDTH, width);
            source->m_capture.set(cv::CAP_PROP_FRAME_HEIGHT, height);
        }
    } else {
        const size_t slash = spec.find_last_of('/');
        source->m_label = url ? spec : (slash == std::string::npos ? spec : spec.substr(slash + 1));
        if (!url && fileKind(spec) == FileKind::Missing)
            throw VideoError(spec + ": no such video file.");
        // A FIFO or another device would block open() or stream forever: refused unopened.
        if (!url && fileKind(spec) != FileKind::Regular)
            throw VideoError(regularFileProblem(spec, "video file"));
        if (const std::string format = url ? std::string() : stillImageFormat(spec);
            !format.empty())
            throw VideoError(spec + ": is a still image (" + format +
                             "), not a video; open it as an image.");
        try {
            if (url)  // FFmpeg, which honours a timeout: an unreachable stream fails in seconds
                source->m_capture.open(spec, cv::CAP_FFMPEG,
                                       {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, kStreamTimeoutMs,
                                        cv::CAP_PROP_READ_TIMEOUT_MSEC, kStreamTimeoutMs});
            else
                source->m_capture.open(spec, cv::CAP_ANY);
        } catch (const cv::Exception& e) {
            throw VideoError(spec + ": the video could not be opened (" + e.err + ").");
        }
        if (!source->m_capture.isOpened())
            throw VideoError(
                spec + (url ? ": the stream could not be opened (unreachable, or a format OpenCV "
                              "cannot read)."
                            : ": not a video OpenCV can read (unknown format or corrupt file)."));
        source->m_file = !url;
    }
    source->m_spec = spec;
    const auto declaredWidth =
        static_cast<int64_t>(source->m_capture.get(cv::CAP_PROP_FRAME_WIDTH));
    const auto declaredHeight =
        static_cast<int64_t>(source->m_capture.get(cv::CAP_PROP_FRAME_HEIGHT));
    if (declaredWidth > 0 && declaredHeight > 0 &&
        declaredWidth * declaredHeight > kMaxLiveFramePixels)
        throw VideoError(overLimit(spec, declaredWidth, declaredHeight));
    if (!source->m_camera) {  // the first frame now: a video without any is an error here
        if (!source->readChecked(source->m_first))
            throw VideoError(spec + (url ? ": the stream delivered no frame within " +
                                               std::to_string(kStreamTimeoutMs / 1000) + " s."
                                         : ": the video has no frames (or none OpenCV can "
                                           "decode)."));
    }
    source->m_fps = source->m_capture.get(cv::CAP_PROP_FPS);
    if (!(source->m_fps > 0.0 && source->m_fps < 1000.0)) source->m_fps = 0.0;
    const double frames = source->m_file ? source->m_capture.get(cv::CAP_PROP_FRAME_COUNT) : 0.0;
    source->m_frameCount = frames > 0.0 && frames < 1e9 ? static_cast<int>(frames) : 0;
    source->m_size = cv::Size(static_cast<int>(source->m_capture.get(cv::CAP_PROP_FRAME_WIDTH)),
                              static_cast<int>(source->m_capture.get(cv::CAP_PROP_FRAME_HEIGHT)));
    return source;
}

bool VideoSource::readChecked(cv::Mat& frame) {
    bool ok = false;
    try {
        ok = m_capture.read(frame) && !frame.empty();
    } catch (const cv::Exception&) {
        return false;
    }
    if (ok && static_cast<int64_t>(frame.total()) > kMaxLiveFramePixels) {
        const cv::Size size = frame.size();
        frame.release();
        throw VideoError(overLimit(m_spec, size.width, size.height));
    }
    return ok;
}

bool VideoSource::read(cv::Mat& frame) {
    if (!m_first.empty()) {
        frame = std::move(m_first);
        m_first.release();
        return true;
    }
    return readChecked(frame);
}

bool VideoSource::rewind() {
    if (!m_file) return false;
    return m_capture.set(cv::CAP_PROP_POS_FRAMES, 0);
}

}  // namespace r18
