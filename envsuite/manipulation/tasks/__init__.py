"""The manipulation skills, one module per scene, and ``TASKS``: every task by name, in the
order of the skills sequence."""

from __future__ import annotations

from envsuite.manipulation.task import ManipulationTask
from envsuite.manipulation.tasks.block import PickPlace, Push
from envsuite.manipulation.tasks.button import ButtonPress
from envsuite.manipulation.tasks.door import DoorOpen
from envsuite.manipulation.tasks.drawer import DrawerClose, DrawerOpen
from envsuite.manipulation.tasks.peg import PegInsert
from envsuite.manipulation.tasks.reach import Reach

TASKS: dict[str, type[ManipulationTask]] = {
    task.name: task
    for task in (
        Reach,
        Push,
        PickPlace,
        DoorOpen,
        DrawerOpen,
        DrawerClose,
        ButtonPress,
        PegInsert,
    )
}
