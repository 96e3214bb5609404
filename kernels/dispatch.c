/* dispatch.c - CPU feature detection and the per-ISA kernel tables. */
#include "kernels.h"
#include "variants.h"


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#endif

static const char *const isa_names[PR_ISA_COUNT] = {
    "scalar", "sse4", "avx2", "avx512", "neon",
};

/* The ISA each one falls back to for kernels it has no variant of. */
static const pr_isa_t fallback[PR_ISA_COUNT] = {
    PR_ISA_SCALAR, PR_ISA_SCALAR, PR_ISA_SSE4, PR_ISA_AVX2, PR_ISA_SCALAR,
};

static pr_kernels_t tables[PR_ISA_COUNT];
static int built;
static const pr_kernels_t *active;

int pr_isa_parse(const char *name, pr_isa_t *out)
{
    for (int i = 0; i < PR_ISA_COUNT; i++) {
        if (!strcmp(name, isa_names[i])) {
            *out = (pr_isa_t)i;
            return 0;
        }
    }
    return -1;
}

const char *pr_isa_name(pr_isa_t isa)
{
    return isa >= 0 && isa < PR_ISA_COUNT ? isa_names[isa] : "?";
}

int pr_isa_supported(pr_isa_t isa)
{
    switch (isa) {
    case PR_ISA_SCALAR:
        return 1;
#if defined(__x86_64__)
    /* libgcc's cpu model also checks that the OS saves the AVX state */
    case PR_ISA_SSE4:
        return __builtin_cpu_supports("sse4.1");
    case PR_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PR_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#elif defined(__aarch64__)
    case PR_ISA_NEON:
        return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#endif
    default:
        return 0;
    }
}

pr_isa_t pr_isa_best(void)
{
    static const pr_isa_t order[] = { PR_ISA_AVX512, PR_ISA_AVX2, PR_ISA_SSE4, PR_ISA_NEON };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (pr_isa_supported(order[i]))
            return order[i];
    return PR_ISA_SCALAR;
}

/* Put target's own variants into its table. */
static void overlay(pr_isa_t target)
{
#define PR_SET(k, isa) \
    PR_ON_##isa(if (PR_ISA_ID_##isa == target) tables[target].k = pr_##k##__##isa;)
    PR_VARIANT_LIST(PR_SET)
#undef PR_SET
}

static void build_tables(void)
{
    /* Lower ISAs first: each table starts as a copy of its fallback's. */
    static const pr_isa_t order[] = {
        PR_ISA_SCALAR, PR_ISA_SSE4, PR_ISA_AVX2, PR_ISA_AVX512, PR_ISA_NEON,
    };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        pr_isa_t isa = order[i];
        if (isa != PR_ISA_SCALAR)
            tables[isa] = tables[fallback[isa]];
        tables[isa].isa = isa;
        tables[isa].isa_name = isa_names[isa];
        overlay(isa);
    }
    built = 1;
}

const pr_kernels_t *pr_kernels_for(pr_isa_t isa)
{
    if (isa < 0 || isa >= PR_ISA_COUNT || !pr_isa_supported(isa))
        return NULL;
    if (!built)
        build_tables();
    return &tables[isa];
}

int pr_kernels_init(char *err, size_t errlen)
{
    const char *want = getenv("PERCH_ISA");
    pr_isa_t isa;

    if (!want || !*want) {
        active = pr_kernels_for(pr_isa_best());
        return 0;
    }
    if (pr_isa_parse(want, &isa) < 0) {
        snprintf(err, errlen, "PERCH_ISA=%s: unknown (scalar, sse4, avx2, avx512, neon)", want);
        return -1;
    }
    if (!pr_isa_supported(isa)) {
        char have[64] = "scalar";
        for (int i = 1; i < PR_ISA_COUNT; i++)
            if (pr_isa_supported((pr_isa_t)i)) {
                strncat(have, ", ", sizeof have - strlen(have) - 1);
                strncat(have, isa_names[i], sizeof have - strlen(have) - 1);
            }
        snprintf(err, errlen, "PERCH_ISA=%s: not supported by this CPU or build (supported: %s)",
                 want, have);
        return -1;
    }
    active = pr_kernels_for(isa);
    return 0;
}

const pr_kernels_t *pr_kernels(void)
{
    if (!active)
        active = pr_kernels_for(pr_isa_best());
    return active;
}
