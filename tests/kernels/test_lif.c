/* test_lif.c - leaky integrate-and-fire step, dense (lif_step) and CSR
 * (lif_step_csr): every variant against the scalar reference over several
 * consecutive steps, so refractory countdowns are exercised too.
 * Tolerance: none.  The order of operations is fixed (decay, then spiking
 * rows in ascending order, no fused multiply-add), so v, the refractory
 * counters and the spikes must match bit for bit. */
#include "kcheck.h"

#define STEPS 3
static const size_t m_list[] = { 0, 1, 37, 300 };
#define NM (sizeof m_list / sizeof m_list[0])
/* Percent of inputs spiking: none, sparse, all (all of 300 needs more than
 * one 256-spike pass in the vector variants). */
static const unsigned dens_list[] = { 0, 5, 100 };
#define ND (sizeof dens_list / sizeof dens_list[0])
#define MAXM 300
#define OFF 3

typedef struct {
    float *v;
    int32_t *refr;
    uint8_t *out;
} state_t;

static float *w, *val;
static int32_t *row_ptr, *idx;
static uint8_t *spk;

static void state_init(state_t *a, state_t *b, size_t n)
{
    for (size_t i = 0; i < n + OFF; i++) {
        a->v[i] = kc_f32(-0.5f, 1.5f);
        a->refr[i] = (int32_t)(kc_u32() % 4) - 1; /* -1..2: <= 0 is not refractory */
        if (kc_u32() % 97 == 0)
            a->v[i] = NAN;
        else if (kc_u32() % 10 == 0)
            a->v[i] = 1.0f; /* exactly the threshold: must fire (>=) */
    }
    memcpy(b->v, a->v, (n + OFF) * sizeof(float));
    memcpy(b->refr, a->refr, (n + OFF) * sizeof(int32_t));
    memset(a->out, 0x55, n + OFF);
    memset(b->out, 0x55, n + OFF);
}

static int same(const state_t *a, const state_t *b, size_t n)
{
    return !memcmp(a->v, b->v, (n + OFF) * sizeof(float)) &&
           !memcmp(a->refr, b->refr, (n + OFF) * sizeof(int32_t)) && !memcmp(a->out, b->out, n + OFF);
}

/* A random CSR by presynaptic neuron, about pct% dense, indexes ascending
 * (so distinct) within a row. */
static void make_csr(size_t m, size_t n, unsigned pct)
{
    int32_t k = 0;
    for (size_t j = 0; j < m; j++) {
        row_ptr[j] = k;
        for (size_t i = 0; i < n; i++)
            if (kc_u32() % 100 < pct) {
                idx[k] = (int32_t)i;
                val[k++] = kc_f32(-0.2f, 0.6f);
            }
    }
    row_ptr[m] = k;
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    size_t nmax = KC_MAXN + OFF;
    w = kc_alloc(MAXM * nmax * sizeof(float));
    val = kc_alloc(MAXM * nmax * sizeof(float) / 4);
    idx = kc_alloc(MAXM * nmax * sizeof(int32_t) / 4);
    row_ptr = kc_alloc((MAXM + 1) * sizeof(int32_t));
    spk = kc_alloc(MAXM + OFF);
    state_t sa = { kc_alloc(nmax * 4), kc_alloc(nmax * 4), kc_alloc(nmax) };
    state_t sb = { kc_alloc(nmax * 4), kc_alloc(nmax * 4), kc_alloc(nmax) };

    /* --- known values of the references --- */
    {
        const float wk[2][3] = { { 0.5f, -0.25f, 10 }, { 100, 100, 100 } };
        const int32_t rp[3] = { 0, 3, 6 }, ix[6] = { 0, 1, 2, 0, 1, 2 };
        for (int csr = 0; csr < 2; csr++) {
            float v[3] = { 1, 2, 0.5f };
            int32_t refr[3] = { 0, 0, 1 };
            uint8_t in[2] = { 1, 0 }, out[3];
            const char *k = csr ? "lif_step_csr" : "lif_step";
#define STEP(sp)                                                                              \
    (csr ? ref->lif_step_csr(3, v, refr, sp, 2, rp, ix, &wk[0][0], 0.5f, 1.0f, 0.0f, 2, out) \
         : ref->lif_step(3, v, refr, sp, 2, &wk[0][0], 0.5f, 1.0f, 0.0f, 2, out))
            STEP(in);
            /* decayed 0.5, 1, 0.25; plus row 0: 1.0, 0.75, 10.25 (refractory) */
            ok(out[0] == 1 && v[0] == 0 && refr[0] == 2, "%s: v = threshold fires, resets", k);
            ok(out[1] == 0 && v[1] == 0.75f && refr[1] == 0, "%s: below threshold integrates", k);
            ok(out[2] == 0 && v[2] == 0 && refr[2] == 0, "%s: refractory holds at reset, counts down", k);
            STEP(NULL);
            ok(out[0] == 0 && v[0] == 0 && refr[0] == 1 && out[1] == 0 && v[1] == 0.375f &&
               out[2] == 0 && v[2] == 0, "%s: no input: decay only, countdown", k);
            v[1] = NAN;
            v[2] = 1e30f;
            STEP(in);
            ok(out[1] == 0 && isnan(v[1]), "%s: NaN never fires", k);
            ok(out[2] == 1 && v[2] == 0 && refr[2] == 2, "%s: large v fires", k);
#undef STEP
        }
        float v0 = 3;
        ref->lif_step(0, &v0, NULL, NULL, 0, NULL, 0.5f, 1, 0, 2, NULL);
        ok(v0 == 3, "lif_step: n = 0 touches nothing");
    }

    /* --- variants against the reference --- */
    kc_fill_f32(w, MAXM * nmax, -0.2f, 0.6f);
    KC_FOR_EACH_VARIANT(t) {
        int bad = 0, badc = 0;
        for (size_t s = 0; s < KC_NSIZES; s++)
            for (size_t mi = 0; mi < NM; mi++)
                for (size_t d = 0; d < ND; d++) {
                    size_t n = kc_sizes[s], m = m_list[mi], o = kc_offsets[(s + mi + d) % KC_NOFFSETS];
                    for (size_t j = 0; j < m; j++)
                        spk[j] = kc_u32() % 100 < dens_list[d] ? (uint8_t)(1 + kc_u32() % 255) : 0;
                    const uint8_t *sp = d == 0 && mi == 1 ? NULL : spk;
                    /* Without input spikes, decay 1 keeps v = threshold exact. */
                    float decay = d == 0 ? 1.0f : 0.9f;
                    /* dense */
                    state_init(&sa, &sb, n);
                    for (int st = 0; st < STEPS; st++) {
                        ref->lif_step(n, sa.v + o, sa.refr + o, sp, m, w + o, decay, 1.0f, -0.1f, 2,
                                      sa.out + o);
                        t->lif_step(n, sb.v + o, sb.refr + o, sp, m, w + o, decay, 1.0f, -0.1f, 2,
                                    sb.out + o);
                        if (!same(&sa, &sb, n) && bad++ < 3)
                            diag("%s lif_step n=%zu m=%zu spikes=%u%% offset=%zu step %d differs",
                                 t->isa_name, n, m, dens_list[d], o, st);
                    }
                    /* sparse */
                    make_csr(m, n, 10);
                    state_init(&sa, &sb, n);
                    for (int st = 0; st < STEPS; st++) {
                        ref->lif_step_csr(n, sa.v + o, sa.refr + o, sp, m, row_ptr, idx, val, decay,
                                          1.0f, -0.1f, 2, sa.out + o);
                        t->lif_step_csr(n, sb.v + o, sb.refr + o, sp, m, row_ptr, idx, val, decay,
                                        1.0f, -0.1f, 2, sb.out + o);
                        if (!same(&sa, &sb, n) && badc++ < 3)
                            diag("%s lif_step_csr n=%zu m=%zu spikes=%u%% offset=%zu step %d differs",
                                 t->isa_name, n, m, dens_list[d], o, st);
                    }
                }
        ok(!bad, "%s lif_step matches the reference bit for bit", t->isa_name);
        ok(!badc, "%s lif_step_csr matches the reference bit for bit", t->isa_name);
    }
    diag("best here: %s", pr_isa_name(pr_isa_best()));

    free(w);
    free(val);
    free(idx);
    free(row_ptr);
    free(spk);
    free(sa.v), free(sa.refr), free(sa.out);
    free(sb.v), free(sb.refr), free(sb.out);
    return exit_status();
}
