#pragma once
// PyTorch's torch.save files read without Python or LibTorch. Since PyTorch 1.6 such a file is a zip
// archive: <folder>/data.pkl (a pickle of the saved object) and <folder>/data/<key> (each storage's raw
// little-endian bytes). LibTorch 1.13's own reader refuses the collections.OrderedDict that
// model.state_dict() returns, so gruq unpickles with a restricted reader that knows only what a
// state_dict or a checkpoint dict holds: dicts, tensors, parameters, numbers, strings and lists.
#include "gruq/model/named_tensors.h"

#include <map>
#include <string>

namespace gruq {

// The tensors of a torch.save archive given as its zip members (full names). A flat state_dict keeps
// its keys ("gru.weight_ih_l0"); tensors in nested dicts are named "outer/inner"
// ("model_state_dict/gru.weight_ih_l0"). InputError(where, ...) on anything else: a pickled Python
// object ("save the state_dict instead"), damaged or truncated storages, unsupported pickle opcodes.
NamedTensors readTorchSaveMembers(const std::map<std::string, std::string>& members, const std::string& where);

// The same from the file's bytes.
NamedTensors readTorchSaveBytes(const std::string& bytes, const std::string& where);

// True for the pre-1.6 torch.save format (a bare pickle stream, not a zip archive).
bool isLegacyTorchSave(const std::string& bytes);

}  // namespace gruq
