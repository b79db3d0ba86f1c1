"""The reflection journal: a worker reflects on their own work stage by stage, guided by a
reflection model and grounded in the documents they may read; private unless shared."""
