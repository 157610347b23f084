"""(to do)"""
