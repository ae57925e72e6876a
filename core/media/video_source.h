// VideoSource: frames from a camera (V4L2 on Linux), a video file or a stream URL, through
// OpenCV's VideoCapture, with errors that say which device or file and what went wrong.
// Blocking; the UI runs it on its own thread (ui/session/capture_thread.h).
// - A still image (a photo given as a video) is refused naming the file and its format: a
//   capture backend would deliver it as an endless one-frame video.
// - A stream is opened and read through FFmpeg with a timeout (kStreamTimeoutMs): an unreachable
//   address fails within seconds instead of hanging.
// - Files and streams deliver their first frame inside open(): a video without frames is an
//   error there ("has no frames"), not an empty run.
// - Frames are bounded like images: a source whose frames are over kMaxLiveFramePixels is
//   refused from its declared size before a frame is decoded, and a frame that grows past it
//   later ends the source. Each live frame is held a few times over (capture, worker, display),
//   so this bounds a live session's memory.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <memory>
#include <string>
#include <vector>

namespace r18 {

// 4096×2304: 4K UHD and DCI 4K fit; 8K (7680×4320, 33 megapixels) does not.
constexpr int64_t kMaxLiveFramePixels = int64_t{4096} * 2304;
constexpr int kStreamTimeoutMs = 5000;

struct CameraInfo {
    int index = 0;       // N of /dev/videoN
    std::string device;  // "/dev/video0"
    std::string name;    // from /sys/class/video4linux/videoN/name, or the device path
};

// Video capture devices present now, by index. Empty without any.
std::vector<CameraInfo> listCameras();

class VideoSource {
public:
    // `spec` is a camera index ("0"), a device ("/dev/video2"), a file or a URL. width/height > 0
    // ask a camera for that resolution. Throws VideoError when it cannot be opened, is a still
    // image, has frames over kMaxLiveFramePixels, or (a file or stream) delivers no frame.
    static std::unique_ptr<VideoSource> open(const std::string& spec, int width = 0,
                                             int height = 0);

    // The next frame (BGR 8-bit). False at the end of a file or when a camera fails to deliver.
    // Throws VideoError for a frame over kMaxLiveFramePixels.
    bool read(cv::Mat& frame);
    // Back to the first frame of a file (for looping); false for cameras and streams.
    bool rewind();

    bool isCamera() const { return m_camera; }
    bool isFile() const { return m_file; }
    double fps() const { return m_fps; }  // as reported; 0 if unknown
    // Frames in a file as its container states them (FFmpeg may estimate it from the duration);
    // 0 for cameras, streams and files that do not say.
    int frameCount() const { return m_frameCount; }
    cv::Size size() const { return m_size; }
    const std::string& label() const {
        return m_label;
    }  // "camera 0 (Integrated Webcam)", "clip.avi"

private:
    bool readChecked(cv::Mat& frame);

    cv::VideoCapture m_capture;
    cv::Mat m_first;  // read by open() from a file or stream, delivered by the first read()
    std::string m_spec;
    bool m_camera = false;
    bool m_file = false;
    double m_fps = 0.0;
    int m_frameCount = 0;
    cv::Size m_size;
    std::string m_label;
};

}  // namespace r18
