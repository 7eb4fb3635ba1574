"""python -m tinygrad_ext: version and build configuration."""

from __future__ import annotations

import platform


def info() -> str:
    from . import _C

    cfg = _C._build_config
    feats = _C._cpu_features()
    lines = [
        f"tinygrad_ext {cfg['version']}",
        f"  python     {platform.python_version()} ({platform.machine()})",
        f"  compiler   {cfg['compiler']}",
        f"  openmp     {'yes' if cfg['openmp'] else 'no'} ({_C.get_num_threads()} threads)",
        f"  simd       {_C._simd_level()} selected at run time "
        f"(cpu: avx2+fma={'yes' if feats['avx2_fma'] else 'no'}, "
        f"avx512f={'yes' if feats['avx512f'] else 'no'})",
        f"  native     {'yes (-march=native)' if cfg['native'] else 'no (portable x86-64)'}",
        f"  cuda       {'built' if cfg['cuda'] else 'not built'}",
        f"  sanitizers {'asan+ubsan' if cfg['sanitize'] else 'off'}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(info())
