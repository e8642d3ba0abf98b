#pragma once
// Where gruq looks for data and keeps its caches (XDG base directories).
#include <string>

namespace gruq {

std::string defaultFashionMnistDir();   // /usr/share/datasets/fashion-mnist (Debian dataset-fashion-mnist)
std::string userCacheDir();             // $GRUQ_CACHE_DIR, else $XDG_CACHE_HOME/gruq, else ~/.cache/gruq
std::string userDataDir();              // $XDG_DATA_HOME/gruq, else ~/.local/share/gruq
std::string defaultSpeechCommandsDir(); // userDataDir()/speech-commands-espeak (made by the generator)

// Creates the directory and its parents; throws InputError naming it when that fails.
void ensureDirectory(const std::string& dir);

// The whole file's bytes; InputError(path, "cannot read the file: <the system's reason>") when it is
// missing, unreadable or a folder.
std::string readWholeFile(const std::string& path);
// Writes `content` to `path` in full or throws InputError(path, <the system's reason>) after removing what
// was partly written. A full disk or a file size limit shows up as a short write or a failing close.
void writeWholeFile(const std::string& path, const std::string& content);

// writeWholeFile to a temporary name beside `path`, then renamed over it: a failure (read-only folder,
// full disk) leaves an earlier file exactly as it was and no partial file.
void replaceFile(const std::string& path, const std::string& content);

}  // namespace gruq
