"""RunTimings: where one operation's run spent its time, for its log line, the metrics and the profile bench."""

from __future__ import annotations

from dataclasses import dataclass

from asyncstt.pipeline.task import SliceResult


@dataclass
class RunTimings:
    """Wall seconds of one run by stage. The slice stages are summed over slices (on the workers, so they may
    exceed the run's own time); the rest is the run's thread."""

    fetch: float = 0.0
    probe: float = 0.0
    #: Reading the audio and its voice activity to find the slices, summed over the planning steps.
    plan: float = 0.0
    #: From the start of the run until the first slice was handed to the executor.
    first_slice: float = 0.0
    slice_decode: float = 0.0
    #: The engine on the workers, its own VAD included.
    slice_engine: float = 0.0
    #: A slice's wall time from its submit until its result was seen, less its decode and engine: waiting for
    #: a free worker, the executor's hand-off both ways, and the run's polling.
    queue_and_handoff: float = 0.0
    checkpoints: float = 0.0
    assembly: float = 0.0
    #: The whole run, from the fetch to the assembled transcript.
    run: float = 0.0
    #: Slices recognised by this run, and those reused from an earlier attempt's checkpoints.
    slices: int = 0
    reused: int = 0
    #: Seconds of audio, summed over channels, that no slice covered: silence.
    skipped_seconds: float = 0.0

    def slice_done(self, result: SliceResult, wall_seconds: float) -> None:
        self.slices += 1
        self.slice_decode += result.decode_seconds
        self.slice_engine += result.engine_seconds
        self.queue_and_handoff += max(
            0.0, wall_seconds - result.decode_seconds - result.engine_seconds
        )

    def stages(self) -> dict[str, float]:
        return {
            "fetch": self.fetch,
            "probe": self.probe,
            "plan": self.plan,
            "first_slice": self.first_slice,
            "slice_decode": self.slice_decode,
            "slice_engine": self.slice_engine,
            "handoff": self.queue_and_handoff,
            "checkpoints": self.checkpoints,
            "assembly": self.assembly,
            "run": self.run,
        }

    def describe(self) -> str:
        """One line: every stage in seconds, then the slices and the silence left out."""
        stages = ", ".join(f"{stage} {seconds:.3f} s" for stage, seconds in self.stages().items())
        return (
            f"{stages}; {self.slices} slice(s) recognised, {self.reused} reused, "
            f"{self.skipped_seconds:.1f} s of silence left out"
        )
