"""named API keys with scopes

`api_keys`: a key's name, the SHA-256 of its token (never the token), its scopes (`read`, `write`,
`biometric`, `admin`, comma-separated), when it was made and revoked. HEARBACK_API_KEY is not
stored: it stays an implicit key with every scope.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00
"""
import sqlalchemy as sa

from alembic import op

revision, down_revision, branch_labels, depends_on = '0010', '0009', None, None


def upgrade() -> None:
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(32), primary_key=True),
        sa.Column('name', sa.String(100), nullable=False, unique=True),
        sa.Column('digest', sa.String(64), nullable=False, unique=True),
        sa.Column('scopes', sa.String(100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('api_keys')
