"""Generic ONNX graph operations on the AttentiveNorm op, below both ``export`` and ``trt``.

``nodes`` answers which nodes and functions are the op's; ``functions`` strips or inlines the op's model-local
function; ``specialise`` folds an inlined graph down to the ops each layer uses. Surgery goes through maintained
IR libraries (``onnx_ir`` passes, ``onnx_graphsurgeon``), never through hand edits of protobuf lists.
"""
