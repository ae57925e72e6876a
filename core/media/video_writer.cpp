#include "core/media/video_writer.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "core/error.h"

namespace r18 {
namespace {

int fourccOf(VideoFormat format) {
    return format == VideoFormat::H264Mp4 ? cv::VideoWriter::fourcc('a', 'v', 'c', '1')
                                          : cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
}

std::string lowerExtension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

// OpenCV's own log lines (an encoder that is missing) are not for our users.
class QuietOpenCv {
public:
    QuietOpenCv()
        : m_level(cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT)) {}
    ~QuietOpenCv() { cv::utils::logging::setLogLevel(m_level); }
    QuietOpenCv(const QuietOpenCv&) = delete;
    QuietOpenCv& operator=(const QuietOpenCv&) = delete;

private:
    cv::utils::logging::LogLevel m_level;
};

}  // namespace

const char* videoFormatName(VideoFormat format) {
    return format == VideoFormat::H264Mp4 ? "H.264 MP4" : "MJPG AVI";
}

const char* videoFormatExtension(VideoFormat format) {
    return format == VideoFormat::H264Mp4 ? ".mp4" : ".avi";
}

bool canWriteH264() {
    static const bool can = [] {
        std::error_code ec;
        const std::filesystem::path probe = std::filesystem::temp_directory_path(ec) /
                                            ("r18-h264-probe-" + std::to_string(getpid()) + ".mp4");
        if (ec) return false;
        bool ok = false;
        try {
            const QuietOpenCv quiet;
            cv::VideoWriter w(probe.string(), cv::CAP_FFMPEG, fourccOf(VideoFormat::H264Mp4), 25.0,
                              cv::Size(16, 16));
            if (w.isOpened()) {
                const cv::Mat frame(16, 16, CV_8UC3, cv::Scalar(40, 120, 200));
                w.write(frame);
                w.write(frame);
                w.release();
                ok = std::filesystem::file_size(probe, ec) > 0 && !ec;
            }
        } catch (const cv::Exception&) {
            ok = false;
        }
        std::filesystem::remove(probe, ec);
        return ok;
    }();
    return can;
}

VideoFormat bestVideoFormat() {
    return canWriteH264() ? VideoFormat::H264Mp4 : VideoFormat::MjpgAvi;
}

VideoFormat videoFormatForPath(const std::string& path) {
    const std::string ext = lowerExtension(path);
    if (ext == ".avi") return VideoFormat::MjpgAvi;
    if (ext == ".mp4") {
        if (canWriteH264()) return VideoFormat::H264Mp4;
        throw VideoError(path +
                         ": this OpenCV build cannot write H.264 MP4 (its FFmpeg has no H.264 "
                         "encoder); name the output .avi to write MJPG AVI instead.");
    }
    throw VideoError(path + ": a video output must end in .mp4 (H.264" +
                     std::string(canWriteH264() ? "" : ", not available in this OpenCV build") +
                     ") or .avi (MJPG).");
}

VideoFileWriter::VideoFileWriter(const std::string& path, VideoFormat format, double fps,
                                 cv::Size size)
    : m_path(path), m_format(format), m_size(size) {
    if (!(fps > 0.0)) throw VideoError(path + ": a video needs a frame rate above 0.");
    if (size.width < 1 || size.height < 1) throw VideoError(path + ": a video frame is empty.");
    const std::filesystem::path target(path);
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
    m_temporary = (dir / ("." + target.filename().string() + ".partial-" +
                          std::to_string(getpid()) + videoFormatExtension(format)))
                      .string();
    try {
        const QuietOpenCv quiet;
        m_writer.open(m_temporary, cv::CAP_FFMPEG, fourccOf(format), fps, size);
        if (format == VideoFormat::MjpgAvi && m_writer.isOpened())
            m_writer.set(cv::VIDEOWRITER_PROP_QUALITY, 90);
    } catch (const cv::Exception& e) {
        throw VideoError(path + ": the video could not be created (" + e.err + ").");
    }
    if (!m_writer.isOpened()) {
        std::error_code ec;
        std::filesystem::remove(m_temporary, ec);
        throw VideoError(path + ": the video could not be created (is the folder writable?).");
    }
}

VideoFileWriter::~VideoFileWriter() {
    if (m_finished) return;
    try {
        m_writer.release();
    } catch (...) {  // nothing to report from a destructor; the file goes anyway
    }
    std::error_code ec;
    std::filesystem::remove(m_temporary, ec);
}

void VideoFileWriter::write(const cv::Mat& bgr) {
    if (m_finished) throw VideoError(m_path + ": the video is already finished.");
    try {
        if (bgr.depth() != CV_8U ||
            (bgr.channels() != 1 && bgr.channels() != 3 && bgr.channels() != 4))
            throw VideoError(m_path + ": frames must be 8-bit gray, BGR or BGRA.");
        cv::Mat frame = bgr;
        if (frame.channels() == 1) cv::cvtColor(frame, frame, cv::COLOR_GRAY2BGR);
        if (frame.channels() == 4) cv::cvtColor(frame, frame, cv::COLOR_BGRA2BGR);
        if (frame.size() != m_size) cv::resize(frame, frame, m_size, 0, 0, cv::INTER_AREA);
        m_writer.write(frame);
    } catch (const cv::Exception& e) {
        throw VideoError(m_path + ": a frame could not be written (" + e.err + ").");
    }
    ++m_frames;
}

void VideoFileWriter::finish() {
    if (m_finished) return;
    try {
        m_writer.release();
    } catch (const cv::Exception& e) {
        throw VideoError(m_path + ": the video could not be closed (" + e.err + ").");
    }
    std::error_code ec;
    std::filesystem::rename(m_temporary, m_path, ec);
    if (ec) {
        const std::string reason = ec.message();
        std::filesystem::remove(m_temporary, ec);
        throw VideoError(m_path + ": the finished video could not be moved into place (" + reason +
                         ").");
    }
    m_finished = true;
}

}  // namespace r18
