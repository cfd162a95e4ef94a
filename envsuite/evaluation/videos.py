"""Evaluation videos: one episode of a task rendered (``rgb_array``) and encoded as a small
animated GIF, for the run directory and for tensorboard's image tab (which plays GIFs)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from PIL import Image

# Frames are shrunk to at most this width, and an episode to at most this many frames (every
# k-th kept), so that a video stays a few hundred kB whatever the env renders.
VIDEO_WIDTH = 160
VIDEO_FRAMES = 200
VIDEOS_FOLDER = "videos"


class RenderError(RuntimeError):
    """The env cannot render ``rgb_array`` frames (the policy's and the env's own errors are
    not this: they propagate)."""


def record_episode(
    env: gym.Env,
    policy: Callable[[Any, Any, np.ndarray], tuple[np.ndarray, Any]],
    seed: int,
    max_steps: int,
) -> list[np.ndarray]:
    """The frames of one episode of ``env`` (made with ``render_mode="rgb_array"``) played by
    ``policy`` (a batched, possibly recurrent evaluation policy, given a batch of one), from
    ``reset(seed=seed)``: the first observation's frame, then one per step, each shrunk to at
    most :data:`VIDEO_WIDTH` pixels wide."""
    observation, _ = env.reset(seed=seed)
    frames = [_frame(env)]
    state, episode_start = None, np.ones(1, dtype=bool)
    for _ in range(max_steps):
        actions, state = policy(_batch_of_one(observation), state, episode_start)
        observation, _, terminated, truncated, _ = env.step(actions[0])
        frames.append(_frame(env))
        episode_start = np.zeros(1, dtype=bool)
        if terminated or truncated:
            break
    return frames


def encode_gif(frames: list[np.ndarray], fps: float) -> bytes:
    """An animated GIF of ``frames`` (every k-th, at most :data:`VIDEO_FRAMES`), looping."""
    stride = -(-len(frames) // VIDEO_FRAMES)
    kept = [Image.fromarray(frame) for frame in frames[::stride]]
    buffer = io.BytesIO()
    kept[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=kept[1:],
        duration=max(20, round(1000 * stride / fps)),
        loop=0,
    )
    return buffer.getvalue()


def video_path(run_dir: Path, task_name: str, step: int) -> Path:
    """Where the video of ``task_name`` at evaluation round ``step`` goes."""
    return run_dir / VIDEOS_FOLDER / task_name / f"step_{step:09d}.gif"


def add_gif_to_tensorboard(writer: Any, tag: str, gif: bytes, step: int) -> None:
    """Write ``gif`` as an image summary (tensorboard plays an animated GIF in place): what
    ``SummaryWriter.add_video`` writes, without its moviepy dependency."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    with Image.open(io.BytesIO(gif)) as image:
        width, height = image.size
    image_summary = Summary.Image(
        height=height, width=width, colorspace=3, encoded_image_string=gif
    )
    summary = Summary(value=[Summary.Value(tag=tag, image=image_summary)])
    writer.file_writer.add_summary(summary, step)


def _frame(env: gym.Env) -> np.ndarray:
    try:
        frame = env.render()
    except Exception as error:  # a renderer's own failure, of any type (no pygame, no GL...)
        raise RenderError(f"render() failed: {type(error).__name__}: {error}") from error
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise RenderError(
            f"{env.spec.id if env.spec else env}: render() gave "
            f"{type(frame).__name__} {getattr(frame, 'shape', '')}, not an RGB(A) image"
        )
    image = Image.fromarray(np.ascontiguousarray(frame[..., :3]).astype(np.uint8))
    if image.width > VIDEO_WIDTH:
        height = max(1, round(image.height * VIDEO_WIDTH / image.width))
        image = image.resize((VIDEO_WIDTH, height), Image.Resampling.BILINEAR)
    return np.asarray(image)


def _batch_of_one(observation: Any) -> Any:
    if isinstance(observation, dict):
        return {key: np.asarray(value)[None] for key, value in observation.items()}
    return np.asarray(observation)[None]
