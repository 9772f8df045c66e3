/* The curated search space of `spherecl tune` (apps/spherecl/cmd_tune.c): CLBlast parameter sets
   worth timing, each a complete entry in the tuning format of lib/blas/tuning.c.

   Xgemm: mostly GEMMK=1 sets, the layout conv2d lays its GEMMs out for. They use no barriers and
   no local memory (the slow path on PoCL), MWG = NWG (CLBlast 1.5.3 computes wrong results with
   GEMMK=1 and MWG != NWG, fixed upstream in 2024), KREG a multiple of VWN, and vector widths up to
   16 (CLBlast's own tuner stops at 8). Measured at 1024^3 on a 2-core AVX-512 CPU under PoCL 3.1:
   68-125 GFLOP/s against 13 for CLBlast's generic defaults. The GEMMK=0 sets are the classic
   local-memory kernel, which GPUs favour. XgemmDirect serves small GEMMs (fc5 at batch 16, conv1.1);
   GemmRoutine's threshold decides which GEMMs are small. Then whether 3x3 stride-1 convolutions
   run by Winograd (spherecl's own Conv2d entry), whether spherecl's own GEMM kernel beats all of
   that (the Gemm entry), and last which of those layers Winograd keeps (Conv2dDirect). */
#include "internal.h"

#define GEMMK1(mdimc, ndimc, wg, vwm, vwn, kreg)                                                   \
  "Xgemm 32 GEMMK=1 KREG=" #kreg " KWG=1 KWI=1 MDIMA=" #mdimc " MDIMC=" #mdimc " MWG=" #wg " NDIMB=" #ndimc \
  " NDIMC=" #ndimc " NWG=" #wg " SA=0 SB=0 STRM=0 STRN=0 VWM=" #vwm " VWN=" #vwn

static const char *const XGEMM[] = {
    GEMMK1(2, 2, 64, 16, 16, 16), /* first: the default the tests hold conv2d's layouts to */
    GEMMK1(1, 1, 32, 16, 16, 16),
    GEMMK1(4, 4, 128, 16, 16, 16),
    GEMMK1(4, 2, 64, 16, 8, 16),
    GEMMK1(2, 2, 32, 16, 16, 16),
    GEMMK1(1, 1, 16, 16, 16, 16),
    GEMMK1(2, 2, 64, 8, 8, 16),
    GEMMK1(2, 2, 64, 8, 8, 8),
    GEMMK1(4, 4, 64, 16, 16, 16),
    GEMMK1(8, 8, 64, 8, 8, 8),
    GEMMK1(16, 16, 64, 4, 4, 4),
    "Xgemm 32 GEMMK=0 KREG=1 KWG=32 KWI=2 MDIMA=16 MDIMC=16 MWG=128 NDIMB=16 NDIMC=16 NWG=128 SA=1 SB=1 "
    "STRM=1 STRN=1 VWM=8 VWN=8",
    "Xgemm 32 GEMMK=0 KREG=1 KWG=16 KWI=2 MDIMA=8 MDIMC=8 MWG=64 NDIMB=8 NDIMC=8 NWG=64 SA=1 SB=1 STRM=0 "
    "STRN=0 VWM=4 VWN=4",
};

#define DIRECT(wgd, mdimcd, ndimcd, kwid, vwmd, vwnd, pad)                                         \
  "XgemmDirect 32 KWID=" #kwid " MDIMAD=" #mdimcd " MDIMCD=" #mdimcd " NDIMBD=" #ndimcd " NDIMCD=" #ndimcd \
  " PADA=" #pad " PADB=" #pad " VWMD=" #vwmd " VWND=" #vwnd " WGD=" #wgd

static const char *const XGEMM_DIRECT[] = {
    DIRECT(32, 8, 8, 2, 4, 4, 1),
    DIRECT(16, 8, 8, 2, 2, 2, 1),
    DIRECT(32, 4, 4, 8, 8, 8, 0),
    DIRECT(64, 8, 8, 8, 8, 8, 1),
};

static const char *const THRESHOLD[] = {
    "GemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=576", /* CLBlast's value for CPUs */
    "GemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=384",
    "GemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=128",
};

/* Winograd for 3x3 stride-1 convolutions: its 16 GEMMs per layer are smaller than im2col's one,
   small enough for XgemmDirect at CLBlast's CPU threshold (576^3), so it comes with lower ones. */
static const char *const WINOGRAD[] = {
    "GemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=128\nConv2d 32 WINOGRAD=2",
    "GemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=128\nConv2d 32 WINOGRAD=4",
    "GemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=256\nConv2d 32 WINOGRAD=2",
    "Conv2d 32 WINOGRAD=2",
};

/* spherecl's own GEMM kernel (kernels/gemm.cl) against CLBlast's, for every GEMM with an
   untransposed B (all of the convolutions'): register tiles of rows x columns. */
static const char *const GEMM_OWN[] = {
    "Gemm 32 ROWS=8 COLS=32",
    "Gemm 32 ROWS=8 COLS=48",
    "Gemm 32 ROWS=12 COLS=32",
    "Gemm 32 ROWS=4 COLS=32",
};

/* Which 3x3 stride-1 layers Winograd keeps once the implicit GEMMs run (the GEMM kernel stage chose
   spherecl's kernel): those with at least this many input channels. Winograd's transforms grow
   with the channels, its savings with their square, so small layers may do better without it
   (SphereFace-20 has 64, 128, 256 and 512). */
static const char *const CONV_DIRECT[] = {
    "Conv2dDirect 32 BELOW_CHANNELS=128",
    "Conv2dDirect 32 BELOW_CHANNELS=256",
    "Conv2dDirect 32 BELOW_CHANNELS=512",
    "Conv2dDirect 32 BELOW_CHANNELS=1024",
};

const char *const *scl__tune_space(scl_tune_stage stage, size_t *count) {
  switch (stage) {
  case SCL_TUNE_XGEMM: *count = sizeof XGEMM / sizeof XGEMM[0]; return XGEMM;
  case SCL_TUNE_DIRECT: *count = sizeof XGEMM_DIRECT / sizeof XGEMM_DIRECT[0]; return XGEMM_DIRECT;
  case SCL_TUNE_THRESHOLD: *count = sizeof THRESHOLD / sizeof THRESHOLD[0]; return THRESHOLD;
  case SCL_TUNE_WINOGRAD: *count = sizeof WINOGRAD / sizeof WINOGRAD[0]; return WINOGRAD;
  case SCL_TUNE_GEMM: *count = sizeof GEMM_OWN / sizeof GEMM_OWN[0]; return GEMM_OWN;
  case SCL_TUNE_CONV_DIRECT: *count = sizeof CONV_DIRECT / sizeof CONV_DIRECT[0]; return CONV_DIRECT;
  case SCL_TUNE_STAGES: break;
  }
  *count = 0;
  return NULL;
}
