// The article KB in kbq's binary, as a compiled KB file (docs/KB-FORMAT.md, "Compiled KB
// files"): article_kb.c, which scripts/embed-article-kb.sh (`make embed`) writes from
// `kbq build` of Sources/KBQ/Article/article.kb.json. KBQ opens these bytes where they lie
// (ArticleKB.swift), as it opens a mapped file.
#ifndef CARTICLEKB_H
#define CARTICLEKB_H

#include <stddef.h>

/// The file's bytes, on a 64-byte boundary (the reader needs 8: each section starts on one).
extern const unsigned char kbq_article_kb[];
/// How many bytes the file has (the array holds one more, a string literal's NUL).
extern const size_t kbq_article_kb_size;

/// The first byte: Swift does not import an array of unknown size, so it reads it through here.
static inline const unsigned char *kbq_article_kb_start(void) { return kbq_article_kb; }

#endif
