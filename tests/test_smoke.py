from ombud.register.domain.lifecycle import LifecycleStage
from tests.factories import complete_details


def test_register_and_publish(container, world):
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details())
    container.register.transition(editor, system.id, LifecycleStage.DESIGN, "go")
    assert container.ledger.verify().ok
