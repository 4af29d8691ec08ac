"""alexatm-jax: AlexaTM-style multilingual seq2seq models in JAX/Flax."""

from pathlib import Path

from setuptools import find_packages, setup

# gin/ sits at the repository root (T5X layout); installs copy it to <prefix>/share/alexatm_jax/gin, which
# alexatm_jax.cli.gin_config searches by default.
GIN_FILES = [
    (str(Path("share/alexatm_jax") / d), [str(f) for f in sorted(d.glob("*.gin"))])
    for d in sorted(p for p in Path("gin").iterdir() if p.is_dir())
]

setup(
    name="alexatm-jax",
    version="0.1.0",
    description="Pretrain, fine-tune, evaluate and serve AlexaTM-style seq2seq models in JAX/Flax.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["alexatm_jax*", "tasks*", "kernels_pallas*"]),
    include_package_data=True,
    data_files=GIN_FILES,
    package_data={"tasks": ["data/*", "data/**/*"], "": ["*.gin"]},
    install_requires=[
        # Model, kernels and decoding need only these (GPU boxes carry no TensorFlow).
        "jax>=0.10",
        "flax>=0.12",
        "optax>=0.2.8",
        "orbax-checkpoint>=0.12",
        "numpy",
        "safetensors",
        "sentencepiece",
    ],
    extras_require={
        # Data, training entry points and evaluation.
        "data": [
            "seqio==0.0.20",
            "tensorflow-datasets",
            "gin-config",
            "clu",
            "tensorboard",
            "sacrebleu",
            "rouge-score",
            "tqdm",
        ],
        "test": ["pytest", "pytest-xdist", "ruff"],
    },
)
