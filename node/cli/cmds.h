/* SPDX-License-Identifier: MIT */
/* The functions of the command table's rows (node/cli/table.c). */
#ifndef HLX_CLI_CMDS_H
#define HLX_CLI_CMDS_H

#include "node/cli/cli.h"

int cmd_init(struct hlx_cli *cli, const struct cli_args *a);
int cmd_overview(struct hlx_cli *cli, const struct cli_args *a);
int cmd_key_show(struct hlx_cli *cli, const struct cli_args *a);
int cmd_key_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_key_allowed_signers(struct hlx_cli *cli, const struct cli_args *a);
int cmd_key_rotate(struct hlx_cli *cli, const struct cli_args *a);
int cmd_key_revoke(struct hlx_cli *cli, const struct cli_args *a);
int cmd_key_box(struct hlx_cli *cli, const struct cli_args *a);
int cmd_sign(struct hlx_cli *cli, const struct cli_args *a);
int cmd_verify(struct hlx_cli *cli, const struct cli_args *a);
int cmd_list_create(struct hlx_cli *cli, const struct cli_args *a);
int cmd_list_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_list_repo(struct hlx_cli *cli, const struct cli_args *a);
int cmd_list_rm(struct hlx_cli *cli, const struct cli_args *a);
int cmd_add(struct hlx_cli *cli, const struct cli_args *a);
int cmd_retract(struct hlx_cli *cli, const struct cli_args *a);
int cmd_import(struct hlx_cli *cli, const struct cli_args *a);
int cmd_export(struct hlx_cli *cli, const struct cli_args *a);
int cmd_log(struct hlx_cli *cli, const struct cli_args *a);
int cmd_show(struct hlx_cli *cli, const struct cli_args *a);
int cmd_diff(struct hlx_cli *cli, const struct cli_args *a);
int cmd_prune(struct hlx_cli *cli, const struct cli_args *a);
int cmd_fsck(struct hlx_cli *cli, const struct cli_args *a);
int cmd_reindex(struct hlx_cli *cli, const struct cli_args *a);
int cmd_url_show(struct hlx_cli *cli, const struct cli_args *a);
int cmd_url_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_lookup(struct hlx_cli *cli, const struct cli_args *a);
int cmd_match(struct hlx_cli *cli, const struct cli_args *a);
int cmd_match_config(struct hlx_cli *cli, const struct cli_args *a);
int cmd_match_status(struct hlx_cli *cli, const struct cli_args *a);
int cmd_match_rebuild(struct hlx_cli *cli, const struct cli_args *a);
int cmd_peer_add(struct hlx_cli *cli, const struct cli_args *a);
int cmd_peer_set(struct hlx_cli *cli, const struct cli_args *a);
int cmd_peer_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_peer_rm(struct hlx_cli *cli, const struct cli_args *a);
int cmd_peer_status(struct hlx_cli *cli, const struct cli_args *a);
int cmd_subscribe(struct hlx_cli *cli, const struct cli_args *a);
int cmd_unsubscribe(struct hlx_cli *cli, const struct cli_args *a);
int cmd_publish(struct hlx_cli *cli, const struct cli_args *a);
int cmd_sync(struct hlx_cli *cli, const struct cli_args *a);
int cmd_run(struct hlx_cli *cli, const struct cli_args *a);
int cmd_config_get(struct hlx_cli *cli, const struct cli_args *a);
int cmd_config_set(struct hlx_cli *cli, const struct cli_args *a);
int cmd_config_unset(struct hlx_cli *cli, const struct cli_args *a);
int cmd_config_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_policy_add(struct hlx_cli *cli, const struct cli_args *a);
int cmd_policy_rm(struct hlx_cli *cli, const struct cli_args *a);
int cmd_policy_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_policy_check(struct hlx_cli *cli, const struct cli_args *a);
int cmd_purge(struct hlx_cli *cli, const struct cli_args *a);
int cmd_audit(struct hlx_cli *cli, const struct cli_args *a);
int cmd_case_report(struct hlx_cli *cli, const struct cli_args *a);
int cmd_case_claim(struct hlx_cli *cli, const struct cli_args *a);
int cmd_case_release(struct hlx_cli *cli, const struct cli_args *a);
int cmd_case_handoff(struct hlx_cli *cli, const struct cli_args *a);
int cmd_case_set(struct hlx_cli *cli, const struct cli_args *a);
int cmd_case_show(struct hlx_cli *cli, const struct cli_args *a);
int cmd_case_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_status_set(struct hlx_cli *cli, const struct cli_args *a);
int cmd_status_import(struct hlx_cli *cli, const struct cli_args *a);
int cmd_status_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_status_show(struct hlx_cli *cli, const struct cli_args *a);
int cmd_plan_propose(struct hlx_cli *cli, const struct cli_args *a);
int cmd_plan_sign(struct hlx_cli *cli, const struct cli_args *a);
int cmd_plan_withdraw(struct hlx_cli *cli, const struct cli_args *a);
int cmd_plan_ls(struct hlx_cli *cli, const struct cli_args *a);
int cmd_plan_show(struct hlx_cli *cli, const struct cli_args *a);
int cmd_plan_route(struct hlx_cli *cli, const struct cli_args *a);
int cmd_help(struct hlx_cli *cli, const struct cli_args *a);
int cmd_completion(struct hlx_cli *cli, const struct cli_args *a);

#endif
