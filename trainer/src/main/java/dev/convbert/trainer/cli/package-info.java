/**
 * The trainer's commands (parse options, call the library): build-data, pretrain and finetune, and the options they
 * share with benchmarks that train ({@code --device}, {@code --precision}, {@code --resume}).
 */
package dev.convbert.trainer.cli;
