#!/usr/bin/env python3
"""Checks the layering of core/ (docs/architecture.md) from the #include lines of the source tree.

    check_layering.py ROOT          report every violation under ROOT, exit 1 if there is any
    check_layering.py --self-test   prove that each rule catches a planted violation

Rules:
  1. No file in core/ includes Qt.
  2. A core library includes only its own headers and those of the libraries below it.
  3. Torch (<torch/...>, <ATen/...>, <c10/...>) is included only by .cpp files and by headers under a
     library's torch/ folder; public headers (core/<lib>/include) include neither torch nor those headers.
     Hence no header that ui/ can include pulls in torch.
  4. ui/ includes no torch, no torch/ header, and neither the MPI nor the speech generator library.
"""
import os
import re
import sys
import tempfile

# Each library and the libraries it may include (itself included).
ALLOWED = {
    "base": {"base"},
    "data": {"base", "data"},
    "speechgen": {"base", "data", "speechgen"},
    "model": {"base", "data", "model"},
    "quant": {"base", "data", "model", "quant"},
    "export": {"base", "data", "model", "quant", "export"},
    "search": {"base", "data", "model", "quant", "export", "search"},
    "mpi": {"base", "data", "model", "quant", "export", "search", "mpi"},
}
TORCH_HEADERS = {"model": {"torch_convert.h", "torch_training.h", "torch_pch.h"},
                 "quant": {"qat_gru.h", "fused_gru_sequence.h"}}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
QT = re.compile(r"^(Q[A-Z]\w*|Qt\w*/.*)$")
TORCH = re.compile(r"^(torch|ATen|c10)/")
SOURCE_ENDINGS = (".h", ".hpp", ".cpp", ".cc", ".c")


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [(m.group(1), m.group(2)) for m in INCLUDE.finditer(f.read())]


def gruq_library(name):
    """'gruq/quant/genome.h' -> ('quant', 'genome.h'); None for anything else."""
    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "gruq":
        return parts[1], parts[2]
    return None


def is_torch_header(name):
    lib = gruq_library(name)
    return lib is not None and lib[1] in TORCH_HEADERS.get(lib[0], set())


def violations(root):
    found = []
    core = os.path.join(root, "core")
    libraries = sorted(d for d in os.listdir(core) if os.path.isdir(os.path.join(core, d)))
    for lib in libraries:
        if lib not in ALLOWED:
            found.append(f"core/{lib}: a library the layering does not know (add it to ALLOWED and the docs)")
            continue
        for folder, _, files in os.walk(os.path.join(core, lib)):
            for file in sorted(files):
                if not file.endswith(SOURCE_ENDINGS):
                    continue
                path = os.path.join(folder, file)
                rel = os.path.relpath(path, root)
                public = f"{os.sep}include{os.sep}" in rel
                torch_folder = f"{os.sep}torch{os.sep}" in rel
                for kind, name in includes(path):
                    if kind == "<" and QT.match(name):
                        found.append(f"{rel}: includes Qt <{name}> (core has no Qt)")
                    if kind == "<" and TORCH.match(name) and file.endswith((".h", ".hpp")) and not torch_folder:
                        found.append(f"{rel}: a header outside torch/ includes <{name}>")
                    target = gruq_library(name)
                    if target and target[0] not in ALLOWED[lib]:
                        found.append(f"{rel}: core/{lib} includes {name} from a library above it")
                    if public and is_torch_header(name):
                        found.append(f"{rel}: a public header includes the torch header {name}")
    for folder, _, files in os.walk(os.path.join(root, "ui")):
        for file in sorted(files):
            if not file.endswith(SOURCE_ENDINGS):
                continue
            path = os.path.join(folder, file)
            rel = os.path.relpath(path, root)
            for kind, name in includes(path):
                target = gruq_library(name)
                if (kind == "<" and TORCH.match(name)) or is_torch_header(name):
                    found.append(f"{rel}: ui includes torch ({name})")
                elif target and target[0] in ("mpi", "speechgen"):
                    found.append(f"{rel}: ui includes {name} (only the CLI links {target[0]})")
    return found


def self_test():
    """Plants one violation of each rule in a minimal tree and checks that each one is reported."""
    cases = {
        "core/data/src/reader.cpp": ("#include <QString>\n", "includes Qt"),
        "core/quant/src/engine.cpp": ('#include "gruq/search/archive.h"\n', "from a library above it"),
        "core/base/include/gruq/base/x.h": ("#include <torch/torch.h>\n", "a header outside torch/"),
        "core/quant/include/gruq/quant/y.h": ('#include "gruq/quant/qat_gru.h"\n', "public header includes the torch"),
        "ui/window.cpp": ('#include "gruq/model/torch_convert.h"\n', "ui includes torch"),
        "ui/panel.cpp": ('#include "gruq/mpi/mpi_search.h"\n', "only the CLI links mpi"),
        "core/newlib/src/z.cpp": ("\n", "does not know"),
    }
    clean = {"core/quant/src/ok.cpp": '#include <torch/torch.h>\n#include "gruq/model/torch_convert.h"\n',
             "core/quant/torch/gruq/quant/qat_gru.h": "#include <torch/torch.h>\n",
             "ui/ok.cpp": '#include "gruq/search/search.h"\n#include <QWidget>\n'}
    failures = []
    for planted, (text, expected) in cases.items():
        with tempfile.TemporaryDirectory() as root:
            for rel, content in list(clean.items()) + [(planted, text)]:
                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
                with open(os.path.join(root, rel), "w") as f:
                    f.write(content)
            found = violations(root)
            if len(found) != 1 or expected not in found[0]:
                failures.append(f"{planted}: expected one report containing '{expected}', got {found}")
    with tempfile.TemporaryDirectory() as root:
        for rel, content in clean.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(content)
        if violations(root):
            failures.append(f"a clean tree was reported: {violations(root)}")
    for failure in failures:
        print("self-test FAILED:", failure)
    print(f"check_layering self-test: {len(cases) + 1 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    found = violations(sys.argv[1])
    for line in found:
        print(line)
    print(f"check_layering: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
