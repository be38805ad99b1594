"""The demo station's attract loop, Qt-free and driven by a clock the caller passes in
(so a test can run days of it in a moment).

States: 'attract' cycles through the demonstrations (each DEMO_S long, its captions
spread evenly over it); a touch switches to 'visitor' (the loop pauses, the visitor
plays); IDLE_S after the last touch it resets to the first demonstration. The demos are
a lesson file (resources/kiosk/demos.md): each step is a demo, its paragraphs are the
captions and its @ lines set the rig.
"""

from dataclasses import dataclass, field

from rig import resources
from rig.teaching.lesson import Lesson, Step, load_lesson

DEMO_S = 30.0  # s each demonstration runs
IDLE_S = 120.0  # s without a touch before the station returns to the loop


def load_demos() -> Lesson:
    """The shipped demonstrations (VrigError naming the file and line if broken)."""
    return load_lesson(resources.resources_dir() / "kiosk" / "demos.md")


def captions(step: Step) -> list[str]:
    """A demo's captions: its paragraphs, in order."""
    return [" ".join(p.split()) for p in step.text.split("\n\n") if p.strip()]


@dataclass
class KioskLoop:
    """The attract loop's state. n_demos: how many demos; demo_s, idle_s: s.
    tick(now) and touch(now) return what to do: ('demo', index) to start a demo,
    ('caption', index) to show the present demo's caption, ('pause', -1) when a visitor
    takes over."""

    n_demos: int
    n_captions: list[int] = field(default_factory=list)
    demo_s: float = DEMO_S
    idle_s: float = IDLE_S
    state: str = "attract"
    demo: int = 0
    caption: int = -1
    started: float = 0.0
    last_touch: float = 0.0
    visits: list[int] = field(default_factory=list)  # the latest 100 demos started
    demos_started: int = 0

    def start(self, now: float) -> list[tuple[str, int]]:
        """Begin the loop at the first demo."""
        self.state, self.demo = "attract", 0
        return self._begin(now)

    def _begin(self, now: float) -> list[tuple[str, int]]:
        self.started, self.caption = now, 0
        self.demos_started += 1
        self.visits.append(self.demo)
        del self.visits[:-100]  # a record of the latest visits, bounded for days of running
        return [("demo", self.demo), ("caption", 0)]

    def tick(self, now: float) -> list[tuple[str, int]]:
        """What to do at time now (s, any monotonic clock)."""
        if self.state == "visitor":
            if now - self.last_touch >= self.idle_s:
                return self.start(now)
            return []
        if now - self.started >= self.demo_s:
            self.demo = (self.demo + 1) % self.n_demos
            return self._begin(now)
        count = self.n_captions[self.demo] if self.demo < len(self.n_captions) else 1
        caption = min(int((now - self.started) / (self.demo_s / max(count, 1))), count - 1)
        if caption != self.caption:
            self.caption = caption
            return [("caption", caption)]
        return []

    def touch(self, now: float) -> list[tuple[str, int]]:
        """A visitor touched the screen (or a key, or the mouse)."""
        self.last_touch = now
        if self.state == "attract":
            self.state = "visitor"
            return [("pause", -1)]
        return []
