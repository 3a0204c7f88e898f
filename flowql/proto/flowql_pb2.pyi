from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Header(_message.Message):
    __slots__ = ("request_id", "exec_endpoint", "target_executor", "timeout", "compression")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXEC_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    TARGET_EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    exec_endpoint: str
    target_executor: str
    timeout: float
    compression: str
    def __init__(self, request_id: _Optional[str] = ..., exec_endpoint: _Optional[str] = ..., target_executor: _Optional[str] = ..., timeout: _Optional[float] = ..., compression: _Optional[str] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("executor", "start_time_ns", "end_time_ns", "shard", "replica", "address")
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    START_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    executor: str
    start_time_ns: int
    end_time_ns: int
    shard: int
    replica: int
    address: str
    def __init__(self, executor: _Optional[str] = ..., start_time_ns: _Optional[int] = ..., end_time_ns: _Optional[int] = ..., shard: _Optional[int] = ..., replica: _Optional[int] = ..., address: _Optional[str] = ...) -> None: ...

class ErrorDetail(_message.Message):
    __slots__ = ("executor", "exception_type", "message", "traceback")
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    executor: str
    exception_type: str
    message: str
    traceback: str
    def __init__(self, executor: _Optional[str] = ..., exception_type: _Optional[str] = ..., message: _Optional[str] = ..., traceback: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("code", "description", "exception")
    class Code(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SUCCESS: _ClassVar[Status.Code]
        ERROR: _ClassVar[Status.Code]
    SUCCESS: Status.Code
    ERROR: Status.Code
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_FIELD_NUMBER: _ClassVar[int]
    code: Status.Code
    description: str
    exception: ErrorDetail
    def __init__(self, code: _Optional[_Union[Status.Code, str]] = ..., description: _Optional[str] = ..., exception: _Optional[_Union[ErrorDetail, _Mapping]] = ...) -> None: ...

class DocsBranch(_message.Message):
    __slots__ = ("executor", "docs")
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    DOCS_FIELD_NUMBER: _ClassVar[int]
    executor: str
    docs: bytes
    def __init__(self, executor: _Optional[str] = ..., docs: _Optional[bytes] = ...) -> None: ...

class DataRequest(_message.Message):
    __slots__ = ("header", "parameters", "docs", "routes", "status", "branches", "stream_index")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    DOCS_FIELD_NUMBER: _ClassVar[int]
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BRANCHES_FIELD_NUMBER: _ClassVar[int]
    STREAM_INDEX_FIELD_NUMBER: _ClassVar[int]
    header: Header
    parameters: bytes
    docs: bytes
    routes: _containers.RepeatedCompositeFieldContainer[Route]
    status: Status
    branches: _containers.RepeatedCompositeFieldContainer[DocsBranch]
    stream_index: int
    def __init__(self, header: _Optional[_Union[Header, _Mapping]] = ..., parameters: _Optional[bytes] = ..., docs: _Optional[bytes] = ..., routes: _Optional[_Iterable[_Union[Route, _Mapping]]] = ..., status: _Optional[_Union[Status, _Mapping]] = ..., branches: _Optional[_Iterable[_Union[DocsBranch, _Mapping]]] = ..., stream_index: _Optional[int] = ...) -> None: ...

class EndpointsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EndpointInfo(_message.Message):
    __slots__ = ("endpoint", "input_schema_name", "input_schema", "output_schema_name", "output_schema", "streaming", "description")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    STREAMING_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    input_schema_name: str
    input_schema: str
    output_schema_name: str
    output_schema: str
    streaming: bool
    description: str
    def __init__(self, endpoint: _Optional[str] = ..., input_schema_name: _Optional[str] = ..., input_schema: _Optional[str] = ..., output_schema_name: _Optional[str] = ..., output_schema: _Optional[str] = ..., streaming: _Optional[bool] = ..., description: _Optional[str] = ...) -> None: ...

class EndpointsInfo(_message.Message):
    __slots__ = ("executor", "endpoints", "has_default")
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    HAS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    executor: str
    endpoints: _containers.RepeatedCompositeFieldContainer[EndpointInfo]
    has_default: bool
    def __init__(self, executor: _Optional[str] = ..., endpoints: _Optional[_Iterable[_Union[EndpointInfo, _Mapping]]] = ..., has_default: _Optional[bool] = ...) -> None: ...

class DryRunRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DryRunResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: Status
    def __init__(self, status: _Optional[_Union[Status, _Mapping]] = ...) -> None: ...
