"""What the numba kernels share: the compile options, vectorizable float32 tanh and σ, a cache
prefetch, raw addresses, flush-to-zero for subnormal numbers, and the call of MKL's GEMM (bound
by :mod:`rnnlab.kernels._blas`) from compiled code.

GEMM is Fortran, column-major, every argument by pointer: a row-major (m, n) array is the
column-major matrix of its transpose (n, m), with leading dimension n.

numba's on-disk cache checks only the file a kernel is defined in: the helpers here are
inlined into the kernels' cached code, so after editing this file delete the cached kernels
(``src/rnnlab/kernels/__pycache__/*.nb*``) or they keep the old helpers.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

JIT = {"cache": True, "fastmath": True, "error_model": "numpy", "nogil": True}

# tanh(x) ≈ x·p(x²)/q(x²) on [−c, c], saturated outside: a rational fit for float32 (the one
# Eigen uses), error ≲ 3e-7; pure multiply-adds and a division, so the loop vectorizes.
_C = np.float32(7.90531110763549805)
_P = (
    -2.76076847742355e-16,
    2.00018790482477e-13,
    -8.60467152213735e-11,
    5.12229709037114e-08,
    1.48572235717979e-05,
    6.37261928875436e-04,
    4.89352455891786e-03,
)
_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)
P0, P1, P2, P3, P4, P5, P6 = (np.float32(c) for c in _P)
Q0, Q1, Q2, Q3 = (np.float32(c) for c in _Q)


@njit(inline="always", **JIT)
def tanh_f32(x):
    """float32 tanh, vectorizable (see the rational fit above)."""
    x = _C if x > _C else x
    x = -_C if x < -_C else x
    x2 = x * x
    p = ((((((P0 * x2 + P1) * x2 + P2) * x2 + P3) * x2 + P4) * x2 + P5) * x2 + P6) * x
    q = ((Q0 * x2 + Q1) * x2 + Q2) * x2 + Q3
    return p / q


# σ(x) = 1/(1 + e^{−x}) in float32 with e^{−x} = 2^y, y = −x·log2(e), split y = n + f with n
# the nearest integer and |f| ≤ ½: 2^f by a degree-6 polynomial (a minimax fit, relative error
# 2e-9, 1e-7 once evaluated in float32), 2^n by writing n + 127 into the exponent bits. Only
# multiply-adds, conversions between float and int, integer adds and shifts, and a reciprocal:
# the loop vectorizes on every x86-64 (the nearest integer by truncating y + 64.5 > 0, not by
# floor(), which is a library call per value without SSE4.1), on AVX-512 at about 1.15× the
# rate of ½ + ½·tanh(x/2) with the fit above. |x| is clamped to 40: σ(±40) is 1 − 4e-18 and
# 4.2e-18, so the result is within 1e-7 of σ everywhere (2e-7 without FMA, SSE2 only) and
# within 2e-6 relatively for x ≥ −40 (the tanh route's σ is stuck at 6e-8 below x ≈ −16), and
# never subnormal (slow on Intel cores without flush-to-zero).
_E = (
    1.0000000005541752,
    0.6931472057372432,
    0.24022646890578392,
    0.055503287770055657,
    0.009618488963141894,
    0.0013399931206245358,
    0.00015345810382041622,
)
E0, E1, E2, E3, E4, E5, E6 = (np.float32(c) for c in _E)
_NLOG2E = np.float32(-1.4426950408889634)  # −log2(e)
_YMAX = np.float32(40 * 1.4426950408889634)  # |y| ≤ 40·log2(e) < 58
_SHIFT = np.float32(64.5)  # y + 64.5 > 0: truncation is floor, and floor(y + ½) is nearest
_ONE = np.float32(1.0)


def sigmoid(x):
    """σ(x) = 1/(1 + e^{−x}); in compiled code the float32 fit above, libm's exp otherwise.

    The implementation is chosen by the argument's type when the kernel is compiled (a numba
    overload), not by a flag at run time: a branch on the dtype inside a loop depends on LLVM
    moving it out of the loop before vectorizing, which it did or not with the loop's size
    (a minGRU forward took 149 ms instead of 15 when it did not)."""
    return 1.0 / (1.0 + math.exp(-x))


@overload(sigmoid, jit_options={"fastmath": True, "error_model": "numpy"})
def _sigmoid_typed(x):
    if x == types.float32:

        def sigmoid_f32(x):
            y = min(max(x * _NLOG2E, -_YMAX), _YMAX)  # e^{−x} = 2^y
            n = np.int32(np.int32(y + _SHIFT) - 64)  # the nearest integer to y
            f = y - np.float32(n)  # |f| ≤ ½
            p = (((((E6 * f + E5) * f + E4) * f + E3) * f + E2) * f + E1) * f + E0  # 2^f
            two_n = np.int32((n + 127) << 23).view(np.float32)  # 2^n: n + 127 in the exponent
            return _ONE / (_ONE + p * two_n)

        return sigmoid_f32

    def sigmoid_libm(x):
        return 1.0 / (1.0 + math.exp(-x))

    return sigmoid_libm


@intrinsic
def prefetch(typingctx, address):
    """Ask the cache for the 64-byte line at ``address`` (an integer) ahead of its use:
    ``llvm.prefetch`` for reading, into all levels (``prefetcht0`` on x86)."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
        # (address, 0 = read, 3 = keep in all cache levels, 1 = data)
        builder.call(fn, [builder.inttoptr(args[0], i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(address), codegen


# Subnormal numbers (|x| < 1.2e-38 in float32) appear wherever a gradient vanishes: in BPTT
# with the loss at the last step only, dL/dh_t shrinks by the recurrence's factor each step
# back (0.5^126 is already subnormal). Intel's optimization manual describes a microcode assist
# for floating-point operations on them (not measured here: no Intel CPU was available); this
# AMD Zen computes them at full speed (3.0 µs against 3.3 µs for 65,536 multiply-adds on
# subnormal against normal values). The kernels therefore run with MXCSR's flush-to-zero
# (bit 15: a subnormal result is 0) and denormals-are-zero (bit 6: a subnormal input reads as
# 0), and give the thread its own MXCSR back on return. x86-64 only, like the MKL they call.
FTZ_DAZ = 0x8040


def _mxcsr_fn(builder, name: str):
    i8p = ir.IntType(8).as_pointer()
    fnty = ir.FunctionType(ir.VoidType(), [i8p])
    return builder.module.declare_intrinsic(name, (), fnty), i8p


@intrinsic
def get_mxcsr(typingctx):
    """The thread's MXCSR (SSE control and status register), by ``stmxcsr``."""

    def codegen(context, builder, signature, args):
        fn, i8p = _mxcsr_fn(builder, "llvm.x86.sse.stmxcsr")
        slot = builder.alloca(ir.IntType(32))
        builder.call(fn, [builder.bitcast(slot, i8p)])
        return builder.load(slot)

    return types.uint32(), codegen


@intrinsic
def set_mxcsr(typingctx, value):
    """Load ``value`` (a 32-bit integer, as :func:`get_mxcsr` returns) into the thread's
    MXCSR, by ``ldmxcsr``."""
    if not (isinstance(value, types.Integer) and value.bitwidth == 32):
        return None

    def codegen(context, builder, signature, args):
        fn, i8p = _mxcsr_fn(builder, "llvm.x86.sse.ldmxcsr")
        slot = builder.alloca(ir.IntType(32))
        builder.store(args[0], slot)
        builder.call(fn, [builder.bitcast(slot, i8p)])
        return context.get_dummy_value()

    return types.void(value), codegen


@njit(inline="always", **JIT)
def flush_subnormals():
    """Set flush-to-zero and denormals-are-zero for this thread; returns the MXCSR to give back
    (:func:`set_mxcsr`) when the kernel is done."""
    old = get_mxcsr()
    set_mxcsr(np.uint32(old | FTZ_DAZ))
    return old


def is_c_contiguous(a):
    """Whether ``a`` is C-contiguous, decided when the kernel is compiled (numba compiles a
    kernel once per layout of its arguments): a loop over the rows of a C array vectorizes,
    one over an array of any strides ('A') does not."""
    return a.flags.c_contiguous


@overload(is_c_contiguous)
def _is_c_typed(a):
    c = isinstance(a, types.Array) and a.layout == "C"
    return lambda a: c


@njit(inline="always", **JIT)
def addr(a):
    """The address of an array's first element, as a signed 64-bit integer."""
    return np.int64(a.ctypes.data)


@njit(inline="always", **JIT)
def gemm_call(gemm, flags, dims, scal, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """C ← op(A)·op(B) + β·C, column-major, on the addresses a, b, c; β ∈ {0, 1} (an index
    into ``scal`` = [1, 0] in the arrays' dtype). ``flags`` = b"NT", ``dims`` int32 scratch."""
    dims[0], dims[1], dims[2], dims[3], dims[4], dims[5] = m, n, k, lda, ldb, ldc
    f, d, s = addr(flags), addr(dims), addr(scal)
    item = scal.itemsize
    gemm(f + ta, f + tb, d, d + 4, d + 8, s, a, d + 12, b, d + 16, s + (1 - beta) * item, c, d + 20)


@njit(inline="always", **JIT)
def gemm_scratch(h):
    """The GEMM arguments passed by address: flags b"NT", six int32 dims, [1, 0] in h's dtype."""
    flags, dims, scal = np.empty(2, np.uint8), np.empty(6, np.int32), np.empty(2, h.dtype)
    flags[0], flags[1] = ord("N"), ord("T")
    scal[0], scal[1] = 1, 0
    return flags, dims, scal
