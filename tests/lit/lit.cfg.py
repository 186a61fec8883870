# -*- Python -*-
# lit configuration of ajit's compiler tests. Run it through the generated site config:
#   /usr/lib/llvm-22/bin/lit -sv <build>/tests/lit      (or: ninja check-ajit-lit)

import os

import lit.formats
from lit.llvm import llvm_config

if not hasattr(config, "ajit_tools_dir"):
    lit_config.fatal(
        "run lit on the build folder (<build>/tests/lit), where CMake writes lit.site.cfg.py"
    )

config.name = "AJIT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.ajit_lit_binary_dir
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "lit.site.cfg.py.in"]

# FileCheck, not, count, split-file from the LLVM tools folder.
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# ajit-opt from this build, never one found elsewhere on PATH.
llvm_config.add_tool_substitutions(["ajit-opt"], [config.ajit_tools_dir])
