//! The gate's kernels for x86_64 CPUs, and the proof that the CPU runs them. The kernels
//! are `unsafe`: callers outside this room reach them only with an [`Avx2`] in hand, and
//! through the SAFETY comment that names what else the kernel's contract asks of them.

pub(super) mod avx2;

/// Proof that the CPU runs AVX2: only [`Avx2::detect`] makes one (the unit field keeps
/// code outside this module from building it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Avx2(());

impl Avx2 {
    /// `Some` when the CPU supports AVX2 (detected once, then a cached flag).
    #[inline]
    pub(super) fn detect() -> Option<Avx2> {
        std::arch::is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }
}
