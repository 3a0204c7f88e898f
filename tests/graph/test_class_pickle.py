"""Executor classes from the user's script travel to their workers by value, typed handlers included."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from docarray import BaseDoc, DocList

from flowql.executors import Executor, requests
from flowql.graph.class_pickle import dump_class

# Like a class in the user's `__main__`: a fresh process cannot import it, so it goes by value.
_TYPED_SCRIPT = """\
{future}
from docarray import BaseDoc, DocList
from flowql import Executor, Flow, requests

class Part(BaseDoc):
    text: str = ''

class MyDoc(BaseDoc):
    text: str
    times: int = 1
    # A nested typed list: pydantic's validator for MyDoc holds docarray's generated DocList[Part] class.
    parts: DocList[Part] = DocList[Part]()

class MyOut(BaseDoc):
    text: str
    length: int = 0
    parts: int = 0

class Measure(Executor):
    @requests(on='/measure')
    def measure(self, docs: DocList[MyDoc], **kwargs) -> DocList[MyOut]:
        # `times` exists on MyDoc only: a worker that decoded plain Documents would fail here.
        return DocList[MyOut]([MyOut(text=d.text * d.times, length=len(d.text), parts=len(d.parts)) for d in docs])

f = Flow(host='127.0.0.1').add(name='measure', uses=Measure)
with f:
    inputs = DocList[MyDoc]([MyDoc(text='ab', times=2), MyDoc(text='xyz', parts=DocList[Part]([Part(), Part()]))])
    out = f.post('/measure', inputs, return_type=DocList[MyOut])
    print('results', [(type(d).__name__, d.text, d.length, d.parts) for d in out])
"""


@pytest.mark.parametrize("future", ["", "from __future__ import annotations"], ids=["eager", "postponed"])
def test_typed_executor_and_schema_in_a_script_without_main_guard(tmp_path, future):
    script = tmp_path / "typed.py"
    script.write_text(_TYPED_SCRIPT.format(future=future))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=50)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "results [('MyOut', 'abab', 2, 0), ('MyOut', 'xyz', 3, 2)]" in result.stdout


class _Doc(BaseDoc):
    text: str


def _local_typed_executor() -> type[Executor]:
    class LocalTyped(Executor):
        array_class = type(DocList[_Doc]())

        @requests(on="/x", request_schema=DocList[_Doc])
        def x(self, docs: DocList[_Doc], **kwargs: object) -> DocList[_Doc]:
            return docs

    return LocalTyped


def test_typed_doc_lists_in_a_pickled_class_load_in_a_fresh_process(tmp_path):
    path = tmp_path / "cls.pickle"
    path.write_bytes(dump_class(_local_typed_executor()))
    code = textwrap.dedent(
        f"""\
        import typing, cloudpickle
        cls = cloudpickle.loads(open({str(path)!r}, 'rb').read())
        hints = typing.get_type_hints(cls.x)
        print(hints['docs'].doc_type.__name__, hints['return'].doc_type.__name__)
        print(cls.x.__flowql_requests__.request_schema.doc_type.__name__)
        print(isinstance(cls.array_class, type) and cls.array_class.doc_type.__name__)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["_Doc", "_Doc", "_Doc", "_Doc"]


def test_postponed_annotations_are_shipped_resolved(tmp_path):
    namespace: dict[str, object] = {"__name__": "flowql_test_script"}
    # A module with postponed annotations whose names only its own globals know.
    exec(  # noqa: S102 - the test's own code
        compile(
            textwrap.dedent(
                """\
                from __future__ import annotations
                from docarray import BaseDoc, DocList
                from flowql.executors import Executor, requests

                class Hidden(BaseDoc):
                    label: str = ''

                class UsesHidden(Executor):
                    @requests
                    def go(self, docs: DocList[Hidden], **kwargs) -> DocList[Hidden]:
                        return docs
                """
            ),
            "<script>",
            "exec",
        ),
        namespace,
    )
    path = tmp_path / "cls.pickle"
    path.write_bytes(dump_class(namespace["UsesHidden"]))  # type: ignore[arg-type]
    code = f"import typing, cloudpickle\ncls = cloudpickle.loads(open({str(path)!r}, 'rb').read())\n"
    code += "print(typing.get_type_hints(cls.go)['docs'].doc_type.model_fields['label'].default == '')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "True"
