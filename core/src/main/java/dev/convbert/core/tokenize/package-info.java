/** BERT uncased WordPiece tokenization: vocabulary, normalisation, word pieces and pair encoding. */
package dev.convbert.core.tokenize;
