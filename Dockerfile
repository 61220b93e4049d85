# One image for every role: the compose file picks the role with its command.
FROM node:20-bookworm-slim
RUN npm install -g pnpm@10
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile
ENV NODE_ENV=production
CMD ["pnpm", "db:migrate"]
