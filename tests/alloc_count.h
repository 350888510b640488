/* Counting the test binary's own malloc family, to show that a call does
 * not allocate. Include once, in a test's .c file; set `counting` around
 * the calls and read `n_allocs`. */
#ifndef DGN_TEST_ALLOC_COUNT_H
#define DGN_TEST_ALLOC_COUNT_H

#include <stddef.h>

/* AddressSanitizer owns malloc; the count runs in the plain build. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef COUNT_ALLOCATIONS
#define COUNT_ALLOCATIONS 1
#endif

#if COUNT_ALLOCATIONS
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static int counting;
static size_t n_allocs;

void *malloc(size_t n)
{
    n_allocs += counting;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    n_allocs += counting;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    n_allocs += counting;
    return __libc_realloc(p, n);
}
int posix_memalign(void **p, size_t align, size_t n)
{
    n_allocs += counting;
    *p = __libc_memalign(align, n);
    return *p ? 0 : 12;
}
#endif

#endif
