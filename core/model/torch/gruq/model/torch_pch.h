// Precompiled header for the torch-using translation units of gruq_core (torch headers are slow).
#pragma once
#include <torch/torch.h>
