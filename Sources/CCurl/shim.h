#include <curl/curl.h>
/* libcurl is loaded with dlopen when a command first needs the network (MLVHTTP's CurlLibrary),
   not linked: linking it (and the libraries it pulls in: GnuTLS, Kerberos, LDAP, …) costs every
   mlv command about 3.5 ms of start-up, a fifth of a no-op `mlv status`.

   Swift cannot call C variadic functions, and curl_easy_setopt/getinfo are variadic. These
   typed wrappers call them through the pointers dlsym returned; remove them if Swift ever
   imports variadic C functions. */
typedef CURLcode (*mlv_curl_variadic_fn)(CURL *, int, ...);
static inline CURLcode mlv_curl_easy_setopt_long(void *fn, CURL *h, CURLoption o, long v) { return ((mlv_curl_variadic_fn)fn)(h, (int)o, v); }
static inline CURLcode mlv_curl_easy_setopt_ptr(void *fn, CURL *h, CURLoption o, const void *v) { return ((mlv_curl_variadic_fn)fn)(h, (int)o, v); }
static inline CURLcode mlv_curl_easy_setopt_off(void *fn, CURL *h, CURLoption o, curl_off_t v) { return ((mlv_curl_variadic_fn)fn)(h, (int)o, v); }
static inline CURLcode mlv_curl_easy_setopt_callback(void *fn, CURL *h, CURLoption o, size_t (*cb)(char *, size_t, size_t, void *)) { return ((mlv_curl_variadic_fn)fn)(h, (int)o, cb); }
static inline CURLcode mlv_curl_easy_getinfo_long(void *fn, CURL *h, CURLINFO i, long *v) { return ((mlv_curl_variadic_fn)fn)(h, (int)i, v); }
