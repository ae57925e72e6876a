// VideoFileWriter: a video file written whole, in the best format this OpenCV build can write.
//
// Frames go to a temporary file beside the target (".NAME.partial-PID.EXT": the same folder, so
// the rename is atomic, and the same extension, so FFmpeg picks the same container); finish()
// closes it — the container's index is written, so the file plays — and renames it over the
// target. Destroyed without finish() (an exception on the way), the temporary file is removed and
// the target is left as it was. A cancelled job calls finish() and leaves a shorter, playable file.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <string>

namespace r18 {

enum class VideoFormat {
    H264Mp4,  // H.264 in MP4, where OpenCV's FFmpeg backend has an H.264 encoder (libx264)
    MjpgAvi,  // Motion JPEG in AVI: every OpenCV build writes it
};

const char* videoFormatName(VideoFormat format);       // "H.264 MP4", "MJPG AVI"
const char* videoFormatExtension(VideoFormat format);  // ".mp4", ".avi"

// Whether this OpenCV build can write H.264 MP4 (probed once per process by writing two tiny
// frames to a temporary file).
bool canWriteH264();

// The best format this build writes: H.264 MP4 if it can, else MJPG AVI.
VideoFormat bestVideoFormat();

// The format for an output path, from its extension: ".mp4" H.264 (VideoError if this build
// cannot write it, naming ".avi" as the alternative), ".avi" MJPG; VideoError for anything else.
VideoFormat videoFormatForPath(const std::string& path);

class VideoFileWriter {
public:
    // Opens the temporary file. fps > 0; frames are `size`, 8-bit BGR. Throws VideoError naming
    // the path when the file cannot be created.
    VideoFileWriter(const std::string& path, VideoFormat format, double fps, cv::Size size);
    ~VideoFileWriter();
    VideoFileWriter(const VideoFileWriter&) = delete;
    VideoFileWriter& operator=(const VideoFileWriter&) = delete;

    // Appends one frame (8-bit BGR, resized to the writer's size if it differs).
    void write(const cv::Mat& bgr);
    // Closes the file and renames it over the target. Throws VideoError if that fails.
    void finish();

    int frames() const { return m_frames; }
    VideoFormat format() const { return m_format; }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    std::string m_temporary;
    VideoFormat m_format;
    cv::Size m_size;
    cv::VideoWriter m_writer;
    int m_frames = 0;
    bool m_finished = false;
};

}  // namespace r18
