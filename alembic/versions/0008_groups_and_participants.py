"""groups of speakers, and the participants a session expected

- `groups` (a campaign, a team: a name unique per workspace) and `group_members` (speaker ids);
  erasing a speaker or deleting a group removes the membership.
- `sessions.group_id`: the group a session is filed under (kept NULL when the group is deleted);
  `sessions.participants`: the ids of the speakers it expected (a JSON list).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 22:00:00
"""
from alembic import op
import sqlalchemy as sa


revision, down_revision, branch_labels, depends_on = '0008', '0007', None, None


def upgrade() -> None:
    op.create_table(
        'groups',
        sa.Column('id', sa.String(32), primary_key=True),
        sa.Column('workspace', sa.String(100), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('workspace', 'name', name='uq_group_name'),
    )
    op.create_index('ix_groups_workspace', 'groups', ['workspace'])
    op.create_table(
        'group_members',
        sa.Column('group_id', sa.String(32), sa.ForeignKey('groups.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('speaker_id', sa.String(32), sa.ForeignKey('speakers.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('added_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_group_members_speaker_id', 'group_members', ['speaker_id'])
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('group_id', sa.String(32), nullable=True))
        batch.add_column(sa.Column('participants', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.create_foreign_key('fk_sessions_group_id', 'groups', ['group_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_sessions_group_id', ['group_id'])


def downgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.drop_index('ix_sessions_group_id')
        batch.drop_constraint('fk_sessions_group_id', type_='foreignkey')
        batch.drop_column('participants')
        batch.drop_column('group_id')
    op.drop_index('ix_group_members_speaker_id', 'group_members')
    op.drop_table('group_members')
    op.drop_index('ix_groups_workspace', 'groups')
    op.drop_table('groups')
