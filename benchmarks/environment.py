"""What the benchmark's numbers depend on: the machine, the versions, the BLAS, the date."""

import datetime
import os
import platform

import numpy as np


def describe(lr, torch):
    """Lines describing this process: machine, Python, NumPy and its BLAS, torch, the module."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"date: {date}",
        f"machine: {platform.platform()}; CPU: {cpu_model()} ({os.cpu_count()} logical CPUs)",
        f"python {platform.python_version()}, numpy {np.__version__}, BLAS: {blas()}",
        "torch: " + (f"{torch.__version__}" if torch else "not used"),
        f"module: {os.path.abspath(lr.__file__)} (version {getattr(lr, '__version__', '?')})",
    ]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas():
    """NumPy's BLAS library and version (NumPy >= 1.25 reports it as a dict)."""
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except TypeError:  # NumPy < 1.25 has no mode argument
        return "unknown"
    return f"{info.get('name', '?')} {info.get('version', '')}".strip()
