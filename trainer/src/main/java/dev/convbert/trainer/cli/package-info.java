/** The trainer's commands (parse options, call the library): finetune, and later build-data and pretrain. */
package dev.convbert.trainer.cli;
