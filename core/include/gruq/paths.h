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

}  // namespace gruq
