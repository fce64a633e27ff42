/* Forced into every test program (tests/CMakeLists.txt), and empty except under clang's
 * static analyzer (make lint): cmocka 1.1 ends a test on a failed assertion through
 * longjmp, which the analyzer cannot see, so it followed every test past its own checks.
 * Here the assertions the tests use become assert(), whose failure ends the path. */
#ifndef PCP_CMOCKA_ANALYZER_H
#define PCP_CMOCKA_ANALYZER_H
#ifdef __clang_analyzer__

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <assert.h>

void _fail(const char *const file, const int line) __attribute__((noreturn));
void _skip(const char *const file, const int line) __attribute__((noreturn));

#undef assert_true
#undef assert_false
#undef assert_non_null
#undef assert_null
#undef assert_int_equal
#undef assert_int_not_equal
#undef assert_ptr_equal
#undef assert_ptr_not_equal
#define assert_true(c)             assert(c)
#define assert_false(c)            assert(!(c))
#define assert_non_null(c)         assert((c) != NULL)
#define assert_null(c)             assert((c) == NULL)
#define assert_int_equal(a, b)     assert((uintmax_t)(a) == (uintmax_t)(b))
#define assert_int_not_equal(a, b) assert((uintmax_t)(a) != (uintmax_t)(b))
#define assert_ptr_equal(a, b)     assert((const void *)(a) == (const void *)(b))
#define assert_ptr_not_equal(a, b) assert((const void *)(a) != (const void *)(b))

#endif
#endif
